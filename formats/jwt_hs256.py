"""``jwt-hs256``: JWS compact, HMAC-SHA256 over a shared secret of at least 32 random bytes."""

from __future__ import annotations

import hmac
import json
import secrets
from typing import Any, ClassVar, Final

from formats._codec import b64url_encode
from formats._jwt_common import JwtFormat, jwk_bytes, jwk_thumbprint, parse_jwk
from formats._ring import refuse_text_secret
from formats.base import FormatName
from formats.errors import KeyConfigError, TokenBadSignature

__all__ = ["JwtHs256"]

MIN_SECRET_BYTES: Final = 32
_FIX: Final = "generate a random one with `tokenbench keys generate --format jwt-hs256`"
_DER_EC_PUBLIC_KEY: Final = bytes.fromhex(
    "3059301306072a8648ce3d0201"
)  # SEQUENCE { SEQUENCE { id-ecPublicKey
_DER_ED25519_PUBLIC_KEY: Final = bytes.fromhex("302a300506032b6570032100")  # SPKI { id-Ed25519 }, 32 bytes


def check_secret(secret: bytes, *, source: str) -> bytes:
    """Refuse secrets an attacker can guess, and public keys passed off as secrets (key confusion)."""
    if not secret:
        raise KeyConfigError(f"{source}: HS256 secret is empty; {_FIX}")
    if len(secret) < MIN_SECRET_BYTES:
        raise KeyConfigError(
            f"{source}: HS256 secret is {len(secret)} bytes, at least {MIN_SECRET_BYTES} are required; {_FIX}"
        )
    if secret.startswith(_DER_EC_PUBLIC_KEY) or (len(secret) == 65 and secret[0] == 4):
        raise KeyConfigError(
            f"{source}: HS256 secret is an EC public key (DER or raw point); "
            f"a public key must never be an HMAC secret; {_FIX}"
        )
    if secret.startswith(_DER_ED25519_PUBLIC_KEY) and len(secret) == len(_DER_ED25519_PUBLIC_KEY) + 32:
        raise KeyConfigError(
            f"{source}: HS256 secret is an Ed25519 public key (DER); "
            f"a public key must never be an HMAC secret; {_FIX}"
        )
    refuse_text_secret(secret, source=source, what="HS256 secret", fix=_FIX)
    return secret


class JwtHs256(JwtFormat[bytes]):
    """HMAC-SHA256 JWS with ``typ`` kind binding; keys are ``oct`` JWKs."""

    name: ClassVar = FormatName.JWT_HS256
    key_file_suffix: ClassVar = ".jwk"
    alg: ClassVar = "HS256"
    public_document: ClassVar[str | None] = None  # symmetric: whoever verifies holds the secret and can sign

    @classmethod
    def parse_key(cls, text: str, *, source: str) -> tuple[str, bytes]:
        """An ``oct`` JWK with ``alg`` HS256 and a random secret of at least 32 bytes."""
        kid, jwk = parse_jwk(text, source=source, kty="oct", alg=cls.alg, fix=_FIX)
        return kid, check_secret(jwk_bytes(jwk, "k", source=source, fix=_FIX), source=source)

    @classmethod
    def generate_key_text(cls) -> str:
        """32 random bytes as an ``oct`` JWK whose kid is its RFC 7638 thumbprint."""
        k = b64url_encode(secrets.token_bytes(MIN_SECRET_BYTES))
        kid = jwk_thumbprint({"k": k, "kty": "oct"})
        return json.dumps({"kty": "oct", "alg": "HS256", "use": "sig", "kid": kid, "k": k})

    @classmethod
    def _material(cls, key: bytes) -> bytes:
        return key

    def _verify_key(self, key: bytes) -> bytes:
        return key

    def _signing_key(self) -> bytes:
        return self._keys[self._signer_kid()]

    def _check_signing_key(self, key: bytes) -> None:
        """Every HS256 key in the ring can sign."""

    def _check_signature(self, key: Any, signing_input: bytes, signature: bytes) -> None:
        if not hmac.compare_digest(hmac.digest(key, signing_input, "sha256"), signature):
            raise TokenBadSignature("HMAC does not match")
