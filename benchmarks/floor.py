"""The floor of each format: its primitive, through the very binding the format uses, with the least parsing.

A floor is what verification cannot cost less than with the bindings tokenbench uses: split the token,
decode base64, run the primitive, decode the payload's claims as typed on the wire (one msgspec decode).
It checks nothing else (no header, no strict base64, no key id, no claim rule, no kind), and every step
is a step a tokenbench verify takes too, with the same library call, so tokenbench / floor >= 1 by
construction and "x floor" is what the checks and the envelope handling cost on top of the primitive.

* ``jwt-hs256``: ``hmac.digest`` + ``hmac.compare_digest`` (OpenSSL through the standard library).
* ``jwt-es256``: ECDSA P-256 verify through cryptography (OpenSSL).
* ``jwt-eddsa`` and ``paseto-v4-public``: Ed25519 through PyNaCl (libsodium).
* ``paseto-v4-local``: BLAKE2b tag (hashlib) and XChaCha20 (pycryptodomex), PAE inline.

:data:`SLOWER_BINDINGS` are the same primitive through another binding, shown as rows of their own (never
as the floor): Ed25519 through cryptography (OpenSSL), the binding pyjwt, joserfc and pyseto use.
:func:`control_floor_for` gives the floors of the control rows (RS256 and JWE ``dir`` + ``A256GCM``,
:mod:`benchmarks.controls`), through cryptography, the binding pyjwt and joserfc use for them.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from binascii import a2b_base64
from collections.abc import Callable
from typing import Final

import msgspec
import nacl.bindings
from Cryptodome.Cipher import ChaCha20
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from benchmarks.subjects import Subject
from formats import FormatName, Kind

__all__ = [
    "FLOOR_PRIMITIVES",
    "SLOWER_BINDINGS",
    "FloorClaims",
    "FloorRejected",
    "control_floor_for",
    "floor_for",
    "payload_reader_for",
    "slower_binding_for",
]


class FloorClaims(msgspec.Struct):
    """The claims as a floor reads them: every member, typed as on the wire, nothing converted or checked.

    The cheapest read that still yields the claims (tokenbench decodes the same JSON into its own typed
    structure and then converts the times and checks every rule).
    """

    sub: str
    role: str | None = None
    perms: list[str] = []
    iat: int | str | None = None
    nbf: int | str | None = None
    exp: int | str | None = None
    jti: str | None = None
    iss: str | None = None
    aud: str | None = None
    fam: str | None = None
    ver: int | None = None


Verifier = Callable[[str], FloorClaims]
Opener = Callable[[str], bytes]

FLOOR_PRIMITIVES: Final = {
    FormatName.JWT_HS256.value: "HMAC-SHA256 via hmac (OpenSSL)",
    FormatName.JWT_ES256.value: "ECDSA P-256 via cryptography (OpenSSL)",
    FormatName.JWT_EDDSA.value: "Ed25519 via PyNaCl (libsodium)",
    FormatName.PASETO_V4_LOCAL.value: "BLAKE2b (hashlib) + XChaCha20 (pycryptodomex)",
    FormatName.PASETO_V4_PUBLIC.value: "Ed25519 via PyNaCl (libsodium)",
}
"""What each format's floor runs: the binding tokenbench's verify calls."""
SLOWER_BINDINGS: Final = {
    FormatName.JWT_EDDSA: "floor-cryptography",
    FormatName.PASETO_V4_PUBLIC: "floor-cryptography",
}
"""Formats with a row for the same primitive through a slower binding: impl name of that row."""

_read_claims: Final = msgspec.json.Decoder(FloorClaims)
_ECDSA: Final = ec.ECDSA(hashes.SHA256())
_PAD: Final = (b"", b"===", b"==", b"=")
_URLSAFE: Final = bytes.maketrans(b"-_", b"+/")
_IMPLICIT: Final = {Kind.ACCESS: b"tokenbench.access", Kind.REFRESH: b"tokenbench.refresh"}


class FloorRejected(Exception):
    """The primitive refused the token."""


def _b64(segment: str) -> bytes:
    # The base64url decode tokenbench uses, without its checks (that is the checks' job).
    return a2b_base64(segment.encode().translate(_URLSAFE) + _PAD[len(segment) % 4])


def _pae(*pieces: bytes) -> bytes:
    return struct.pack("<Q", len(pieces)) + b"".join(struct.pack("<Q", len(p)) + p for p in pieces)


def _jws_parts(token: str) -> tuple[bytes, bytes, bytes]:
    """(signing input, payload, signature) of a JWS compact token."""
    signing_input, _, signature = token.rpartition(".")
    return signing_input.encode(), _b64(signing_input.partition(".")[2]), _b64(signature)


def _hs256(secret: bytes) -> Opener:
    def open_(token: str) -> bytes:
        signing_input, payload, signature = _jws_parts(token)
        if not hmac.compare_digest(hmac.digest(secret, signing_input, "sha256"), signature):
            raise FloorRejected("HMAC")
        return payload

    return open_


def _es256(public: ec.EllipticCurvePublicKey) -> Opener:
    def open_(token: str) -> bytes:
        signing_input, payload, raw = _jws_parts(token)
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        public.verify(der, signing_input, _ECDSA)  # raises InvalidSignature
        return payload

    return open_


def _eddsa(public: bytes) -> Opener:
    def open_(token: str) -> bytes:
        signing_input, payload, signature = _jws_parts(token)
        nacl.bindings.crypto_sign_open(signature + signing_input, public)
        return payload

    return open_


def _eddsa_cryptography(public: bytes) -> Opener:
    key = Ed25519PublicKey.from_public_bytes(public)

    def open_(token: str) -> bytes:
        signing_input, payload, signature = _jws_parts(token)
        key.verify(signature, signing_input)
        return payload

    return open_


def _v4_local(key: bytes, implicit: bytes) -> Opener:
    header = b"v4.local."

    def open_(token: str) -> bytes:
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
        return plaintext

    return open_


def _v4_public(public: bytes, implicit: bytes, *, openssl: bool = False) -> Opener:
    header = b"v4.public."
    key = Ed25519PublicKey.from_public_bytes(public)

    def open_(token: str) -> bytes:
        _, _, body_segment, footer_segment = token.split(".")
        body, footer = _b64(body_segment), _b64(footer_segment)
        message, signature = body[:-64], body[-64:]
        if openssl:
            key.verify(signature, _pae(header, message, footer, implicit))
        else:
            nacl.bindings.crypto_sign_open(signature + _pae(header, message, footer, implicit), public)
        return message

    return open_


def _verifier(open_: Opener) -> Verifier:
    def verify(token: str) -> FloorClaims:
        return _read_claims.decode(open_(token))

    return verify


def payload_reader_for(subject: Subject, kind: Kind = Kind.ACCESS) -> Opener:
    """The floor without its claim read: the authenticated payload bytes of a token of ``subject``."""
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


def floor_for(subject: Subject, kind: Kind = Kind.ACCESS) -> Verifier:
    """The floor verifier of ``subject``'s format, keyed once like the format itself."""
    return _verifier(payload_reader_for(subject, kind))


def slower_binding_for(subject: Subject) -> Verifier:
    """The floor's steps with the primitive through cryptography (OpenSSL): Ed25519 formats only."""
    if subject.name is FormatName.JWT_EDDSA:
        return _verifier(_eddsa_cryptography(_b64(subject.jwk["x"])))
    if subject.name is FormatName.PASETO_V4_PUBLIC:
        secret = _b64(subject.key_text.removeprefix("k4.secret."))
        return _verifier(_v4_public(secret[32:], _IMPLICIT[Kind.ACCESS], openssl=True))
    raise ValueError(f"{subject.name} has no slower-binding row")


def _rs256(public: rsa.RSAPublicKey) -> Opener:
    pkcs1 = padding.PKCS1v15()
    sha256 = hashes.SHA256()

    def open_(token: str) -> bytes:
        signing_input, payload, signature = _jws_parts(token)
        public.verify(signature, signing_input, pkcs1, sha256)
        return payload

    return open_


def _jwe_dir_a256gcm(key: bytes) -> Opener:
    aead = AESGCM(key)

    def open_(token: str) -> bytes:
        protected, _, iv, ciphertext, tag = token.split(".")
        plaintext: bytes = aead.decrypt(_b64(iv), _b64(ciphertext) + _b64(tag), protected.encode())
        return plaintext

    return open_


def control_floor_for(name: str, key: rsa.RSAPublicKey | bytes) -> Verifier:
    """The floor of a control row (``jwt-rs256`` with its public key, ``jwe-dir-a256gcm`` with its key)."""
    if name == "jwt-rs256" and isinstance(key, rsa.RSAPublicKey):
        return _verifier(_rs256(key))
    if name == "jwe-dir-a256gcm" and isinstance(key, bytes):
        return _verifier(_jwe_dir_a256gcm(key))
    raise ValueError(f"no control floor {name!r} for {type(key).__name__}")
