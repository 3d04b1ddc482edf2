"""Raw token construction with given key material: for the attack suite, tests and docs only.

Everything here builds tokens byte by byte, without the checks the formats apply when they issue: any
JWS header, payload and signature; PASETO v4 ``local`` and ``public`` tokens with any header, footer,
implicit assertion, payload, nonce and key (of any length). That is what an attacker holding a key, or a
buggy co-issuer, can produce, and what the attack suite and the format tests send to ``verify``.

Nothing in ``formats`` imports this module (a test checks it): ``verify`` never relies on anything here.

    >>> from formats import forge
    >>> secret = bytes(range(32))
    >>> header = {"alg": "HS256", "typ": "at+jwt", "kid": "k"}
    >>> token = forge.jws(header, {"sub": "x"}, sign=forge.hmac_signer(secret))
    >>> forge.jws_split(token)[1]
    b'{"sub":"x"}'
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from base64 import urlsafe_b64decode
from collections.abc import Callable, Mapping
from typing import Any, Final

import msgspec
import nacl.bindings
from Cryptodome.Cipher import ChaCha20
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from formats._codec import b64url_encode
from formats._paseto_common import pae
from formats.claims import Claims, claims_to_jwt, claims_to_paseto

__all__ = [
    "Signer",
    "b64u",
    "b64u_lenient",
    "ecdsa_signer",
    "ed25519_secret",
    "ed25519_signer",
    "hmac_signer",
    "json_bytes",
    "jwk_ec_private_key",
    "jwk_okp_seed",
    "jwk_secret",
    "jws",
    "jws_split",
    "jwt_payload",
    "paserk_bytes",
    "paseto",
    "paseto_payload",
    "paseto_split",
    "v2_public",
    "v4_local",
    "v4_local_open",
    "v4_public",
]

Signer = Callable[[bytes], bytes]
"""Signs a JWS signing input (``header.payload`` as ASCII bytes) and returns the raw signature bytes."""

V4_LOCAL: Final = "v4.local."
V4_PUBLIC: Final = "v4.public."
_NONCE: Final = 32
_TAG: Final = 32
_SIG: Final = 64

Piece = Mapping[str, Any] | bytes | str
"""A JSON member set (serialised compactly, in insertion order) or raw bytes/text sent exactly as given."""


# --- encodings ---------------------------------------------------------------------------------------


def b64u(data: bytes) -> str:
    """Unpadded base64url (the canonical spelling)."""
    return b64url_encode(data)


def b64u_lenient(segment: str) -> bytes:
    """Decode base64url however it is spelled (padding optional, unused bits ignored)."""
    return urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def json_bytes(value: Piece) -> bytes:
    """``value`` as compact JSON (mappings keep their member order); bytes and str are taken verbatim."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(dict(value), separators=(",", ":")).encode("utf-8")


def jwt_payload(claims: Claims) -> dict[str, Any]:
    """The JWT wire form of ``claims`` (NumericDate integers), exactly as the JWT formats issue it."""
    return claims_to_jwt(claims)


def paseto_payload(claims: Claims) -> dict[str, Any]:
    """The PASETO wire form of ``claims`` (RFC 3339 strings), exactly as the PASETO formats issue it."""
    payload: dict[str, Any] = msgspec.json.decode(claims_to_paseto(claims))
    return payload


# --- JWS compact -------------------------------------------------------------------------------------


def hmac_signer(secret: bytes, hash_name: str = "sha256") -> Signer:
    """HMAC with any secret (empty, short, a public key's bytes) and ``sha256``/``sha384``/``sha512``."""
    return lambda signing_input: hmac.digest(secret, signing_input, hash_name)


def ecdsa_signer(
    key: ec.EllipticCurvePrivateKey, hash_algorithm: hashes.HashAlgorithm | None = None
) -> Signer:
    """ECDSA on any curve, returning the JWS form ``r || s`` (each the curve's byte size).

    ``hash_algorithm`` defaults to SHA-256, so a P-384 or secp256k1 key yields an "ES256"-labelled signature.
    """
    algorithm = ec.ECDSA(hash_algorithm or hashes.SHA256())
    size = (key.curve.key_size + 7) // 8

    def sign(signing_input: bytes) -> bytes:
        r, s = decode_dss_signature(key.sign(signing_input, algorithm))
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")

    return sign


def ed25519_signer(key: bytes) -> Signer:
    """Ed25519 (the JWS ``EdDSA`` signature of RFC 8037) with a 32-byte seed or 64-byte secret key."""
    return lambda signing_input: _ed25519_sign(key, signing_input)


def jws(
    header: Piece,
    payload: Piece,
    *,
    sign: Signer | None = None,
    signature: bytes | str | None = None,
) -> str:
    """A JWS compact token ``b64u(header).b64u(payload).signature``.

    ``sign`` computes the signature over the signing input; ``signature`` gives it instead (bytes are
    base64url-encoded, a str is used as the literal third segment, e.g. ``""`` or a padded spelling).
    With neither, the third segment is empty.
    """
    signing_input = f"{b64u(json_bytes(header))}.{b64u(json_bytes(payload))}"
    if sign is not None:
        third = b64u(sign(signing_input.encode("ascii")))
    elif isinstance(signature, bytes):
        third = b64u(signature)
    else:
        third = signature or ""
    return f"{signing_input}.{third}"


def jws_split(token: str) -> tuple[bytes, bytes, bytes]:
    """Header, payload and signature bytes of a three-segment JWS (lenient base64url)."""
    header, payload, signature = token.split(".")
    return b64u_lenient(header), b64u_lenient(payload), b64u_lenient(signature)


# --- PASETO v4 ---------------------------------------------------------------------------------------


def paseto(header: str, body: bytes, footer: bytes = b"") -> str:
    """Assemble ``header + b64u(body) [+ "." + b64u(footer)]`` without any cryptography."""
    token = header + b64u(body)
    return f"{token}.{b64u(footer)}" if footer else token


def paseto_split(token: str) -> tuple[str, bytes, bytes]:
    """``(header, body, footer)`` of a PASETO token, header including its trailing dot (lenient base64url)."""
    version, purpose, rest = token.split(".", 2)
    body, _, footer = rest.partition(".")
    return f"{version}.{purpose}.", b64u_lenient(body), b64u_lenient(footer) if footer else b""


def _xchacha_keys(key: bytes, nonce: bytes) -> tuple[bytes, bytes, bytes]:
    tmp = hashlib.blake2b(b"paseto-encryption-key" + nonce, key=key, digest_size=56).digest()
    auth_key = hashlib.blake2b(b"paseto-auth-key-for-aead" + nonce, key=key, digest_size=32).digest()
    return tmp[:32], tmp[32:], auth_key


def v4_local(
    key: bytes,
    payload: Piece,
    *,
    footer: Piece = b"",
    implicit: bytes = b"",
    nonce: bytes | None = None,
    header: str = V4_LOCAL,
) -> str:
    """PASETO v4.local Encrypt (XChaCha20 + BLAKE2b-MAC) with any key of 0..64 bytes.

    ``nonce`` fixes the 32-byte nonce (the spec's step 3 draws it at random; a fixed one reuses the
    keystream, catalog PASETO-NONCE-MISUSE). ``header`` changes the header both in the MAC and on the
    wire (relabelling needs two different headers: build, then edit the string).
    """
    nonce = secrets.token_bytes(_NONCE) if nonce is None else nonce
    footer_bytes = json_bytes(footer)
    encryption_key, counter_nonce, auth_key = _xchacha_keys(key, nonce)
    ciphertext = ChaCha20.new(key=encryption_key, nonce=counter_nonce).encrypt(json_bytes(payload))
    tag = hashlib.blake2b(
        pae(header.encode(), nonce, ciphertext, footer_bytes, implicit), key=auth_key, digest_size=_TAG
    ).digest()
    return paseto(header, nonce + ciphertext + tag, footer_bytes)


def v4_local_open(key: bytes, token: str) -> bytes:
    """Decrypt a v4.local token's body without checking its tag (to read what a token carries)."""
    _, body, _ = paseto_split(token)
    nonce, ciphertext = body[:_NONCE], body[_NONCE:-_TAG]
    encryption_key, counter_nonce, _ = _xchacha_keys(key, nonce)
    plaintext: bytes = ChaCha20.new(key=encryption_key, nonce=counter_nonce).decrypt(ciphertext)
    return plaintext


def ed25519_secret(key: bytes) -> bytes:
    """The 64-byte libsodium secret key (seed || public) from a 32-byte seed or a 64-byte secret key."""
    if len(key) == _SIG:
        return key
    _, secret = nacl.bindings.crypto_sign_seed_keypair(key)
    result: bytes = secret
    return result


def v4_public(
    secret: bytes,
    payload: Piece,
    *,
    footer: Piece = b"",
    implicit: bytes = b"",
    header: str = V4_PUBLIC,
) -> str:
    """PASETO v4.public Sign (Ed25519 over PAE) with a 32-byte seed or 64-byte secret key.

    ``header`` enters PAE and the wire. For v2.public (whose PAE has no implicit assertion) use
    :func:`v2_public`.
    """
    footer_bytes = json_bytes(footer)
    message = json_bytes(payload)
    signature = _ed25519_sign(secret, pae(header.encode(), message, footer_bytes, implicit))
    return paseto(header, message + signature, footer_bytes)


def v2_public(secret: bytes, payload: Piece, *, footer: Piece = b"") -> str:
    """PASETO v2.public (Ed25519 over a three-piece PAE, no implicit assertion) with the same key type."""
    footer_bytes = json_bytes(footer)
    message = json_bytes(payload)
    signature = _ed25519_sign(secret, pae(b"v2.public.", message, footer_bytes))
    return paseto("v2.public.", message + signature, footer_bytes)


def _ed25519_sign(secret: bytes, data: bytes) -> bytes:
    signed: bytes = nacl.bindings.crypto_sign(data, ed25519_secret(secret))
    return signed[:_SIG]


# --- key material from key-file text ----------------------------------------------------------------


def jwk_secret(text: str) -> bytes:
    """The raw ``k`` of an ``oct`` JWK (an HS256 key file)."""
    return b64u_lenient(json.loads(text)["k"])


def jwk_ec_private_key(text: str) -> ec.EllipticCurvePrivateKey:
    """The private key of an ``EC`` P-256 JWK with ``d`` (an ES256 key file)."""
    jwk = json.loads(text)
    d = int.from_bytes(b64u_lenient(jwk["d"]), "big")
    return ec.derive_private_key(d, ec.SECP256R1())


def jwk_okp_seed(text: str) -> bytes:
    """The 32-byte Ed25519 seed ``d`` of an ``OKP`` JWK (a jwt-eddsa key file)."""
    return b64u_lenient(json.loads(text)["d"])


def paserk_bytes(text: str) -> bytes:
    """The key bytes of a PASERK (``k4.local.…``, ``k4.secret.…``, ``k4.public.…``)."""
    return b64u_lenient(text.strip().split(".", 2)[2])
