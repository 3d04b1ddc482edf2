"""``paseto-v4-local``: XChaCha20 + BLAKE2b-MAC, symmetric; the claims travel encrypted."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any, ClassVar, Final

import pyseto
from Cryptodome.Cipher import ChaCha20

from formats._codec import b64url_encode
from formats._paseto_common import PasetoFormat, pae, parse_paserk, paserk_id
from formats._ring import refuse_text_secret
from formats.base import FormatName
from formats.errors import TokenMalformed

__all__ = ["PasetoV4Local", "decrypt"]

HEADER: Final = "v4.local."
KEY_BYTES: Final = 32
_NONCE: Final = 32
_TAG: Final = 32


def decrypt(key: bytes, body: bytes, footer: bytes, implicit: bytes) -> bytes | None:
    """PASETO v4 Decrypt steps 4-8: the plaintext, or None if the tag does not verify."""
    if len(body) < _NONCE + _TAG:
        raise TokenMalformed("v4.local body is shorter than nonce and tag")
    nonce, ciphertext, tag = body[:_NONCE], body[_NONCE:-_TAG], body[-_TAG:]
    auth_key = hashlib.blake2b(b"paseto-auth-key-for-aead" + nonce, key=key, digest_size=32).digest()
    expected = hashlib.blake2b(
        pae(HEADER.encode(), nonce, ciphertext, footer, implicit), key=auth_key, digest_size=32
    )
    if not hmac.compare_digest(expected.digest(), tag):
        return None
    tmp = hashlib.blake2b(b"paseto-encryption-key" + nonce, key=key, digest_size=56).digest()
    plaintext: bytes = ChaCha20.new(key=tmp[:32], nonce=tmp[32:]).decrypt(ciphertext)
    return plaintext


class PasetoV4Local(PasetoFormat[bytes]):
    """v4.local with ``k4.local`` PASERK key files and ``k4.lid`` key ids."""

    name: ClassVar = FormatName.PASETO_V4_LOCAL
    key_file_suffix: ClassVar = ".paserk"
    header: ClassVar = HEADER
    min_body: ClassVar = _NONCE + _TAG + 1  # a claims payload is never empty

    @classmethod
    def parse_key(cls, text: str, *, source: str) -> tuple[str, bytes]:
        """A ``k4.local`` PASERK of exactly 32 bytes; its id is the ``k4.lid`` of that PASERK."""
        _, key = parse_paserk(text, source=source, accepted={"k4.local.": KEY_BYTES})
        refuse_text_secret(
            key,
            source=source,
            what="k4.local key",
            fix="generate a random one with `tokenbench keys generate`",
        )
        return paserk_id("k4.lid.", text), key

    @classmethod
    def generate_key_text(cls) -> str:
        """32 random bytes as a ``k4.local`` PASERK."""
        return "k4.local." + b64url_encode(secrets.token_bytes(KEY_BYTES))

    @classmethod
    def _material(cls, key: bytes) -> bytes:
        return key

    def _check_signing_key(self, key: bytes) -> None:
        self._issuer = pyseto.Key.new(4, "local", key)

    def _pyseto_key(self) -> Any:
        return self._issuer

    def _open(self, key: bytes, body: bytes, footer: bytes, implicit: bytes) -> bytes | None:
        return decrypt(key, body, footer, implicit)
