"""The peers: how other Python libraries verify the same token with the same key.

Each peer is used the way its documentation recommends for an access token: the algorithm pinned, the
key parsed once (never per call), and the library's own claim checks switched on (expiry, and issuer and
audience where it offers them). Every peer verifies the tokenbench token itself, except python-paseto,
whose public API has no implicit assertion: it verifies a token it issued itself with the same claims and
footer (its PAE then has three pieces instead of four, a difference of a few bytes hashed).
"""

from __future__ import annotations

import json
import warnings
from base64 import urlsafe_b64decode, urlsafe_b64encode
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, cast

import jwt
import paseto
import pyseto
from joserfc import jwt as jose_jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, OctKey, OKPKey
from litestar.security.jwt import Token as LitestarToken
from paseto.keys.asymmetric_key import AsymmetricPublicKey, AsymmetricSecretKey
from paseto.keys.symmetric_key import SymmetricKey

from benchmarks.floor import payload_reader_for
from benchmarks.subjects import AUDIENCE, ISSUER, Subject
from formats import FormatName

__all__ = ["LEEWAY", "PEER_NAMES", "REQUIRED", "Peer", "joserfc_claims", "peers_for"]

LEEWAY: Final = 30
"""Seconds of clock leeway every peer (and control) verifier is given, as the formats' policy."""
REQUIRED: Final = ["exp", "iat", "nbf", "sub", "jti", "iss", "aud"]
"""The claims every peer (and control) verifier requires."""
_IMPLICIT_ACCESS: Final = b"tokenbench.access"

PEER_NAMES: Final = {
    FormatName.JWT_HS256: ("pyjwt", "litestar", "joserfc"),
    FormatName.JWT_ES256: ("pyjwt", "litestar", "joserfc"),
    FormatName.JWT_EDDSA: ("pyjwt", "litestar", "joserfc"),
    FormatName.PASETO_V4_LOCAL: ("pyseto", "python-paseto"),
    FormatName.PASETO_V4_PUBLIC: ("pyseto", "python-paseto"),
}
"""The peers of each format, in table order."""


@dataclass(frozen=True, slots=True)
class Peer:
    """A library's verify, ready to call on ``token``."""

    name: str
    token: str
    verify: Callable[[str], Any]

    def subject_of(self, result: Any) -> str:
        """The ``sub`` claim out of whatever the library returns."""
        if isinstance(result, LitestarToken):
            return result.sub
        if isinstance(result, pyseto.Token):
            return cast(str, cast(dict[str, Any], result.payload)["sub"])
        if isinstance(result, dict) and "message" in result:  # python-paseto
            return cast(str, result["message"]["sub"])
        return cast(str, cast(dict[str, Any], result)["sub"])


def joserfc_claims() -> jose_jwt.JWTClaimsRegistry:
    """joserfc's claim checks as the peers run them: issuer, audience, sub, jti and exp required."""
    return jose_jwt.JWTClaimsRegistry(
        leeway=LEEWAY,
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": AUDIENCE},
        sub={"essential": True},
        jti={"essential": True},
        exp={"essential": True},
    )


def _b64(segment: str) -> bytes:
    return urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


_JWT_ALG: Final = {
    FormatName.JWT_HS256: "HS256",
    FormatName.JWT_ES256: "ES256",
    FormatName.JWT_EDDSA: "EdDSA",
}


def _jwt_peers(subject: Subject) -> list[Peer]:
    jwk = subject.jwk
    alg = _JWT_ALG[subject.name]
    if alg == "HS256":
        key: Any = _b64(jwk["k"])
        jose_key: OctKey | ECKey | OKPKey = OctKey.import_key(key)
    elif alg == "EdDSA":
        okp: dict[str, str | list[str]] = {m: jwk[m] for m in ("kty", "crv", "x")}
        key = jwt.PyJWK(okp, algorithm="EdDSA").key
        jose_key = OKPKey.import_key(okp)
    else:
        public: dict[str, str | list[str]] = {m: jwk[m] for m in ("kty", "crv", "x", "y")}
        key = jwt.PyJWK(public, algorithm="ES256").key
        jose_key = ECKey.import_key(public)

    def pyjwt_verify(token: str) -> Any:
        return jwt.decode(
            token,
            key,
            algorithms=[alg],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=LEEWAY,
            options={"require": REQUIRED},
        )

    def litestar_verify(token: str) -> Any:
        return LitestarToken.decode(token, secret=key, algorithm=alg, audience=AUDIENCE, issuer=ISSUER)

    registry = joserfc_claims()

    def joserfc_verify(token: str) -> Any:
        decoded = jose_jwt.decode(token, jose_key, algorithms=[alg])
        registry.validate(decoded.claims)
        return decoded.claims

    def joserfc_eddsa_verify(token: str) -> Any:
        # joserfc warns on every "EdDSA" decode that RFC 9864 deprecates the name; the filter costs about
        # a microsecond, small against the verify, and keeps the warning out of the benchmark's output.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SecurityWarning)
            return joserfc_verify(token)

    return [
        Peer("pyjwt", subject.access, pyjwt_verify),
        Peer("litestar", subject.access, litestar_verify),
        Peer("joserfc", subject.access, joserfc_eddsa_verify if alg == "EdDSA" else joserfc_verify),
    ]


def _paseto_peers(subject: Subject) -> list[Peer]:
    local = subject.name is FormatName.PASETO_V4_LOCAL
    if local:
        raw = _b64(subject.key_text.removeprefix("k4.local."))
        pyseto_key = pyseto.Key.new(4, "local", raw)
        issuer_key: Any = SymmetricKey.v4(raw)
        verify_key: Any = issuer_key
    else:
        secret = _b64(subject.key_text.removeprefix("k4.secret."))
        pyseto_key = pyseto.Key.from_paserk("k4.public." + _b64encode(secret[32:]))
        issuer_key = AsymmetricSecretKey.v4(secret)
        verify_key = AsymmetricPublicKey.v4(secret[32:])

    def pyseto_verify(token: str) -> Any:
        return pyseto.decode(
            pyseto_key, token, implicit_assertion=_IMPLICIT_ACCESS, deserializer=json, aud=AUDIENCE
        )

    # python-paseto issues its own token: same wire claims and footer, no implicit assertion.
    message = json.loads(payload_reader_for(subject)(subject.access))
    footer = json.loads(_b64(subject.access.rsplit(".", 1)[1]))
    own_token = paseto.create(issuer_key, message, purpose="local" if local else "public", footer=footer)

    def python_paseto_verify(token: str) -> Any:
        return paseto.parse(verify_key, token, purpose="local" if local else "public")

    return [
        Peer("pyseto", subject.access, pyseto_verify),
        Peer("python-paseto", own_token, python_paseto_verify),
    ]


def _b64encode(data: bytes) -> str:
    return urlsafe_b64encode(data).rstrip(b"=").decode()


def peers_for(subject: Subject) -> list[Peer]:
    """The peers of ``subject``'s format, keyed once, in table order."""
    if subject.name in _JWT_ALG:
        return _jwt_peers(subject)
    return _paseto_peers(subject)
