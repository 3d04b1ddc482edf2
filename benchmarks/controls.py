"""Control rows at the token level: the most common JWT algorithm and JWT's answer to v4.local.

Neither is a service format; each stands beside its floor so the report can separate what the algorithm
costs from what the envelope and the library cost:

* ``jwt-rs256``: RS256 (RSASSA-PKCS1-v1_5, 2048-bit key) verified by pyjwt, the way the peers are (the
  algorithm pinned, the key parsed once, expiry, issuer and audience checked). Floor: RSA verify through
  cryptography, which pyjwt calls.
* ``jwe-dir-a256gcm``: a JWE compact token, ``alg`` ``dir``, ``enc`` ``A256GCM``, decrypted by joserfc and
  its claims checked by joserfc's claims registry. Floor: AES-256-GCM through cryptography, which joserfc
  calls. Set against ``paseto-v4-local`` (encrypted claims too).

The claims are those of the other formats' access tokens (JWT wire: NumericDate integers).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwe
from joserfc import jwt as jose_jwt
from joserfc.jwk import OctKey

from benchmarks.floor import FloorClaims, control_floor_for
from benchmarks.peers import LEEWAY, REQUIRED, joserfc_claims
from benchmarks.subjects import AUDIENCE, ISSUER, access_claims
from formats.claims import claims_to_jwt

__all__ = ["CONTROLS", "Control", "build_control"]

CONTROLS: Final = ("jwt-rs256", "jwe-dir-a256gcm")
"""The control rows, by the name the report shows in the format column."""
LIBRARY: Final = {"jwt-rs256": "pyjwt", "jwe-dir-a256gcm": "joserfc"}
"""The library that verifies each control (its impl name in the rows)."""

_RSA_BITS: Final = 2048


@dataclass(frozen=True, slots=True)
class Control:
    """One control: its token, the library's verify and the floor's."""

    name: str
    token: str
    sub: str
    verify: Callable[[str], Any]
    floor: Callable[[str], FloorClaims]


def _rs256() -> Control:
    claims = claims_to_jwt(access_claims())
    private = rsa.generate_private_key(public_exponent=65537, key_size=_RSA_BITS)
    public = private.public_key()
    token = jwt.encode(claims, private, algorithm="RS256", headers={"kid": "rs256-1", "typ": "at+jwt"})

    def verify(token: str) -> Any:
        return jwt.decode(
            token,
            public,
            algorithms=["RS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=LEEWAY,
            options={"require": REQUIRED},
        )

    return Control("jwt-rs256", token, claims["sub"], verify, control_floor_for("jwt-rs256", public))


def _jwe() -> Control:
    claims = claims_to_jwt(access_claims())
    raw = secrets.token_bytes(32)
    key = OctKey.import_key(raw)
    registry = jwe.JWERegistry(algorithms=["dir", "A256GCM"])
    token = jose_jwt.encode({"alg": "dir", "enc": "A256GCM", "typ": "at+jwt"}, claims, key, registry=registry)
    checks = joserfc_claims()

    def verify(token: str) -> Any:
        decoded = jose_jwt.decode(token, key, registry=registry)
        checks.validate(decoded.claims)
        return decoded.claims

    return Control("jwe-dir-a256gcm", token, claims["sub"], verify, control_floor_for("jwe-dir-a256gcm", raw))


def build_control(name: str) -> Control:
    """A fresh key and token for the control ``name``."""
    if name == "jwt-rs256":
        return _rs256()
    if name == "jwe-dir-a256gcm":
        return _jwe()
    raise ValueError(f"unknown control {name!r}")
