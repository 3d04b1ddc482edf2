"""``jwt-eddsa``: JWS compact, EdDSA over Ed25519 (RFC 8037); public keys published as a JWKS.

The same primitive as ``paseto-v4-public``, checked by the same function (``formats._ed25519``), inside
the JWS envelope of ``jwt-es256``: comparing it with v4.public isolates what the envelope costs and allows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from formats._codec import b64url_encode
from formats._ed25519 import PUBLIC_BYTES, SEED_BYTES, ed25519_verify, keypair_from_seed
from formats._jwt_common import JwtFormat, jwk_bytes, jwk_thumbprint, parse_jwk
from formats.base import FormatName
from formats.errors import KeyConfigError, TokenBadSignature

__all__ = ["JwtEdDsa", "OkpKey", "public_jwk"]

_CRV: Final = "Ed25519"
_FIX: Final = "regenerate it with `tokenbench keys generate --format jwt-eddsa`"


@dataclass(frozen=True, slots=True)
class OkpKey:
    """A ring entry: the Ed25519 public key ``x`` and, when the key can sign, its seed ``d``."""

    public: bytes
    seed: bytes | None


def public_jwk(public: bytes, kid: str) -> dict[str, str]:
    """The public JWK of an Ed25519 key (RFC 8037 §2), as published in the JWKS."""
    return {"kty": "OKP", "crv": _CRV, "x": b64url_encode(public), "alg": "EdDSA", "use": "sig", "kid": kid}


class JwtEdDsa(JwtFormat[OkpKey]):
    """Ed25519 JWS (``alg`` ``EdDSA``) with ``typ`` kind binding; keys are ``OKP`` JWKs on ``Ed25519``.

    The active key must include its private part ``d`` (the 32-byte seed); retiring keys may be public
    only. ``EdDSA`` also names Ed448 in RFC 8037; this format accepts Ed25519 keys only, so an Ed448
    signature (114 bytes) never verifies.
    """

    name: ClassVar = FormatName.JWT_EDDSA
    key_file_suffix: ClassVar = ".jwk"
    alg: ClassVar = "EdDSA"

    @classmethod
    def parse_key(cls, text: str, *, source: str) -> tuple[str, OkpKey]:
        """An ``OKP`` JWK on ``Ed25519``: ``x`` of 32 bytes and, if present, a seed ``d`` that derives it."""
        kid, jwk = parse_jwk(text, source=source, kty="OKP", alg=cls.alg, fix=_FIX)
        if jwk.get("crv") != _CRV:
            raise KeyConfigError(
                f"{source}: JWK crv is {jwk.get('crv')!r}; jwt-eddsa needs an Ed25519 key; {_FIX}"
            )
        public = jwk_bytes(jwk, "x", source=source, fix=_FIX)
        if len(public) != PUBLIC_BYTES:
            raise KeyConfigError(f"{source}: Ed25519 public key x is 32 bytes, found {len(public)}; {_FIX}")
        if "d" not in jwk:
            return kid, OkpKey(public=public, seed=None)
        seed = jwk_bytes(jwk, "d", source=source, fix=_FIX)
        if len(seed) != SEED_BYTES:
            raise KeyConfigError(f"{source}: Ed25519 private key d is 32 bytes, found {len(seed)}; {_FIX}")
        if keypair_from_seed(seed)[0] != public:
            raise KeyConfigError(
                f"{source}: Ed25519 x does not match the public key of d (damaged or hand-edited key); {_FIX}"
            )
        return kid, OkpKey(public=public, seed=seed)

    @classmethod
    def generate_key_text(cls) -> str:
        """A new Ed25519 private JWK whose kid is its RFC 7638 thumbprint."""
        seed = Ed25519PrivateKey.generate().private_bytes_raw()
        public, _ = keypair_from_seed(seed)
        pub = public_jwk(public, "")
        kid = jwk_thumbprint({m: pub[m] for m in ("crv", "kty", "x")})
        return json.dumps({**pub, "kid": kid, "d": b64url_encode(seed)})

    @classmethod
    def _material(cls, key: OkpKey) -> bytes | None:
        return key.seed

    @classmethod
    def _public_bytes(cls, key: OkpKey) -> bytes:
        return key.public

    def _verify_key(self, key: OkpKey) -> bytes:
        return key.public

    def _signing_key(self) -> Ed25519PrivateKey:
        return self._signer

    def _check_signing_key(self, key: OkpKey) -> None:
        if key.seed is None:
            raise KeyConfigError(
                f"the newest {self.name} key {self._active_kid!r} has no private part (d) and cannot sign; "
                "add a private JWK or run `tokenbench keys rotate --format jwt-eddsa`"
            )
        self._signer = Ed25519PrivateKey.from_private_bytes(key.seed)

    def _check_signature(self, key: Any, signing_input: bytes, signature: bytes) -> None:
        if not ed25519_verify(key, signing_input, signature):
            raise TokenBadSignature("Ed25519 signature does not verify")

    def well_known(self) -> Mapping[str, Any]:
        """``jwks.json``: the public keys of the ring, active first."""
        return {"jwks.json": {"keys": [public_jwk(self._keys[k].public, k) for k in self.kids]}}
