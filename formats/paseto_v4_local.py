"""``paseto-v4-local``: XChaCha20 + BLAKE2b-MAC, symmetric; the claims travel encrypted."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any, ClassVar, Final

import pyseto
from Cryptodome.Cipher import ChaCha20

from formats._codec import b64url_encode
from formats._paseto_common import IMPLICIT_ASSERTION, OTHER_KIND, PasetoFormat, pae, parse_paserk, paserk_id
from formats._ring import refuse_text_secret
from formats.base import FormatName, Kind
from formats.errors import TokenBadSignature, TokenMalformed

__all__ = ["PasetoV4Local", "decrypt", "open_bound"]

HEADER: Final = "v4.local."
KEY_BYTES: Final = 32
_NONCE: Final = 32
_TAG: Final = 32
_HEADER_BYTES: Final = HEADER.encode()


def _split(body: bytes) -> tuple[bytes, bytes, bytes]:
    if len(body) < _NONCE + _TAG:
        raise TokenMalformed("v4.local body is shorter than nonce and tag")
    return body[:_NONCE], body[_NONCE:-_TAG], body[-_TAG:]


def _auth_key(key: bytes, nonce: bytes) -> bytes:
    return hashlib.blake2b(b"paseto-auth-key-for-aead" + nonce, key=key, digest_size=32).digest()


def _tag(auth_key: bytes, nonce: bytes, ciphertext: bytes, footer: bytes, implicit: bytes) -> bytes:
    mac = hashlib.blake2b(
        pae(_HEADER_BYTES, nonce, ciphertext, footer, implicit), key=auth_key, digest_size=32
    )
    return mac.digest()


def _plaintext(key: bytes, nonce: bytes, ciphertext: bytes) -> bytes:
    tmp = hashlib.blake2b(b"paseto-encryption-key" + nonce, key=key, digest_size=56).digest()
    plaintext: bytes = ChaCha20.new(key=tmp[:32], nonce=tmp[32:]).decrypt(ciphertext)
    return plaintext


def decrypt(key: bytes, body: bytes, footer: bytes, implicit: bytes) -> bytes | None:
    """PASETO v4 Decrypt steps 4-8: the plaintext, or None if the tag does not verify."""
    nonce, ciphertext, tag = _split(body)
    if not hmac.compare_digest(_tag(_auth_key(key, nonce), nonce, ciphertext, footer, implicit), tag):
        return None
    return _plaintext(key, nonce, ciphertext)


def open_bound(key: bytes, body: bytes, footer: bytes, kind: Kind) -> tuple[Kind, bytes]:
    """The kind ``body`` is bound to and its plaintext (empty if not ``kind``); TokenBadSignature if none.

    The tag of the presented kind is checked first; only when it fails is the other kind's tag computed,
    with the same derived authentication key, so a rejection costs one BLAKE2b more than an acceptance's
    tag and no decryption.
    """
    nonce, ciphertext, tag = _split(body)
    auth_key = _auth_key(key, nonce)
    if hmac.compare_digest(_tag(auth_key, nonce, ciphertext, footer, IMPLICIT_ASSERTION[kind]), tag):
        return kind, _plaintext(key, nonce, ciphertext)
    other = OTHER_KIND[kind]
    if hmac.compare_digest(_tag(auth_key, nonce, ciphertext, footer, IMPLICIT_ASSERTION[other]), tag):
        return other, b""
    raise TokenBadSignature("authentication failed")


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

    def _open(self, key: bytes, body: bytes, footer: bytes, kind: Kind) -> tuple[Kind, bytes]:
        return open_bound(key, body, footer, kind)
