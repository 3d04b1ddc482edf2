"""The floor of each format: its cryptographic primitive with the least parsing that still reads the claims.

A floor is what verification cannot cost less than in Python with the same bindings: split the token,
decode base64, run the primitive, decode the JSON payload to a dict. It checks nothing else (no header,
no strict base64, no key id, no claims, no kind), so a tokenbench verify is "the floor plus the checks".

* ``jwt-hs256``: ``hmac.digest`` + ``hmac.compare_digest`` (OpenSSL through the standard library).
* ``jwt-es256``: ECDSA P-256 verify through cryptography (OpenSSL).
* ``jwt-eddsa``: Ed25519 through PyNaCl (libsodium), the binding the format uses, as for v4.public.
* ``paseto-v4-local``: BLAKE2b tag (hashlib) and XChaCha20 (pycryptodomex), PAE inline.
* ``paseto-v4-public``: Ed25519 through PyNaCl (libsodium), the binding the format uses.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from binascii import a2b_base64
from collections.abc import Callable
from typing import Any, Final

import msgspec
import nacl.bindings
from Cryptodome.Cipher import ChaCha20
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from benchmarks.subjects import Subject
from formats import FormatName, Kind

__all__ = ["FloorRejected", "floor_for"]

Verifier = Callable[[str], dict[str, Any]]

_decode_json: Final = msgspec.json.decode
_ECDSA: Final = ec.ECDSA(hashes.SHA256())
_PAD: Final = (b"", b"===", b"==", b"=")
_URLSAFE: Final = bytes.maketrans(b"-_", b"+/")
_IMPLICIT: Final = {Kind.ACCESS: b"tokenbench.access", Kind.REFRESH: b"tokenbench.refresh"}


class FloorRejected(Exception):
    """The primitive refused the token."""


def _b64(segment: str) -> bytes:
    # The fastest base64url decode the standard library offers (no validation: that is the checks' job).
    return a2b_base64(segment.encode().translate(_URLSAFE) + _PAD[len(segment) % 4])


def _pae(*pieces: bytes) -> bytes:
    return struct.pack("<Q", len(pieces)) + b"".join(struct.pack("<Q", len(p)) + p for p in pieces)


def _hs256(secret: bytes) -> Verifier:
    def verify(token: str) -> dict[str, Any]:
        signing_input, _, signature = token.rpartition(".")
        payload = signing_input.partition(".")[2]
        if not hmac.compare_digest(hmac.digest(secret, signing_input.encode(), "sha256"), _b64(signature)):
            raise FloorRejected("HMAC")
        claims: dict[str, Any] = _decode_json(_b64(payload))
        return claims

    return verify


def _es256(public: ec.EllipticCurvePublicKey) -> Verifier:
    def verify(token: str) -> dict[str, Any]:
        signing_input, _, signature = token.rpartition(".")
        payload = signing_input.partition(".")[2]
        raw = _b64(signature)
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        public.verify(der, signing_input.encode(), _ECDSA)  # raises InvalidSignature
        claims: dict[str, Any] = _decode_json(_b64(payload))
        return claims

    return verify


def _eddsa(public: bytes) -> Verifier:
    def verify(token: str) -> dict[str, Any]:
        signing_input, _, signature = token.rpartition(".")
        payload = signing_input.partition(".")[2]
        nacl.bindings.crypto_sign_open(_b64(signature) + signing_input.encode(), public)
        claims: dict[str, Any] = _decode_json(_b64(payload))
        return claims

    return verify


def _v4_local(key: bytes, implicit: bytes) -> Verifier:
    header = b"v4.local."

    def verify(token: str) -> dict[str, Any]:
        _, _, body_segment, footer_segment = token.split(".")
        body, footer = _b64(body_segment), _b64(footer_segment)
        nonce, ciphertext, tag = body[:32], body[32:-32], body[-32:]
        auth_key = hashlib.blake2b(b"paseto-auth-key-for-aead" + nonce, key=key, digest_size=32).digest()
        expected = hashlib.blake2b(
            _pae(header, nonce, ciphertext, footer, implicit), key=auth_key, digest_size=32
        ).digest()
        if not hmac.compare_digest(expected, tag):
            raise FloorRejected("BLAKE2b tag")
        tmp = hashlib.blake2b(b"paseto-encryption-key" + nonce, key=key, digest_size=56).digest()
        plaintext: bytes = ChaCha20.new(key=tmp[:32], nonce=tmp[32:]).decrypt(ciphertext)
        claims: dict[str, Any] = _decode_json(plaintext)
        return claims

    return verify


def _v4_public(public: bytes, implicit: bytes) -> Verifier:
    header = b"v4.public."

    def verify(token: str) -> dict[str, Any]:
        _, _, body_segment, footer_segment = token.split(".")
        body, footer = _b64(body_segment), _b64(footer_segment)
        message, signature = body[:-64], body[-64:]
        nacl.bindings.crypto_sign_open(signature + _pae(header, message, footer, implicit), public)
        claims: dict[str, Any] = _decode_json(message)
        return claims

    return verify


def floor_for(subject: Subject, kind: Kind = Kind.ACCESS) -> Verifier:
    """The floor verifier of ``subject``'s format, keyed once like the format itself."""
    if subject.name is FormatName.JWT_HS256:
        return _hs256(_b64(subject.jwk["k"]))
    if subject.name is FormatName.JWT_ES256:
        jwk = subject.jwk
        public = ec.EllipticCurvePublicNumbers(
            int.from_bytes(_b64(jwk["x"]), "big"), int.from_bytes(_b64(jwk["y"]), "big"), ec.SECP256R1()
        ).public_key()
        return _es256(public)
    if subject.name is FormatName.JWT_EDDSA:
        return _eddsa(_b64(subject.jwk["x"]))
    if subject.name is FormatName.PASETO_V4_LOCAL:
        return _v4_local(_b64(subject.key_text.removeprefix("k4.local.")), _IMPLICIT[kind])
    secret = _b64(subject.key_text.removeprefix("k4.secret."))
    return _v4_public(secret[32:], _IMPLICIT[kind])
