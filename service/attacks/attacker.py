"""The attacker's own key material: fresh keys, a self-signed certificate, public-key spellings."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import nacl.bindings
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.x509.oid import NameOID

from formats import forge
from service.attacks.contract import jwk_thumbprint, paserk_id

__all__ = [
    "P256_ORDER",
    "ec_jwk",
    "ec_jwk_public",
    "ed25519_keypair",
    "local_key",
    "okp_jwk",
    "public_key_spellings",
    "self_signed_certificate",
]

P256_ORDER: Final = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def ec_jwk_public(key: ec.EllipticCurvePublicKey, *, kid: str, crv: str = "P-256") -> dict[str, Any]:
    """The public JWK of an EC key on any curve (``crv`` as JOSE names it)."""
    size = (key.curve.key_size + 7) // 8
    numbers = key.public_numbers()
    return {
        "kty": "EC",
        "crv": crv,
        "x": forge.b64u(numbers.x.to_bytes(size, "big")),
        "y": forge.b64u(numbers.y.to_bytes(size, "big")),
        "alg": "ES256",
        "kid": kid,
    }


def ec_jwk(key: ec.EllipticCurvePrivateKey, *, kid: str, private: bool, crv: str = "P-256") -> dict[str, Any]:
    """A JWK of an EC key on any curve, with ``d`` if ``private``."""
    size = (key.curve.key_size + 7) // 8
    jwk = ec_jwk_public(key.public_key(), kid=kid, crv=crv)
    if private:
        jwk["d"] = forge.b64u(key.private_numbers().private_value.to_bytes(size, "big"))
    return jwk


def ed25519_keypair() -> tuple[bytes, str, str]:
    """A fresh Ed25519 key: (64-byte secret, ``k4.public`` PASERK, its ``k4.pid``)."""
    public, secret = nacl.bindings.crypto_sign_keypair()
    paserk = "k4.public." + forge.b64u(public)
    return secret, paserk, paserk_id("k4.pid.", paserk)


def local_key() -> tuple[bytes, str, str]:
    """A fresh v4.local key: (32 bytes, ``k4.local`` PASERK, its ``k4.lid``)."""
    key = secrets.token_bytes(32)
    paserk = "k4.local." + forge.b64u(key)
    return key, paserk, paserk_id("k4.lid.", paserk)


def self_signed_certificate(key: ec.EllipticCurvePrivateKey | Ed25519PrivateKey) -> bytes:
    """A self-signed certificate (DER, ``CN=auth.example``) for ``key``: an x5c of the attacker's."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "auth.example")])
    start = datetime(2026, 1, 1, tzinfo=UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=3650))
        .sign(key, None if isinstance(key, Ed25519PrivateKey) else hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.DER)


def key_file(jwk: dict[str, Any]) -> str:
    """``jwk`` as a key file, its kid set to its RFC 7638 thumbprint like a generated key's.

    So the service refuses the key for what the row is about, not for a made-up kid.
    """
    return json.dumps({**jwk, "kid": jwk_thumbprint(jwk)})


def okp_jwk(secret: bytes, *, kid: str, private: bool, crv: str = "Ed25519") -> dict[str, Any]:
    """An ``OKP`` JWK of a 64-byte Ed25519 secret key (seed || public), with ``d`` if ``private``."""
    jwk = {"kty": "OKP", "crv": crv, "x": forge.b64u(secret[32:]), "alg": "EdDSA", "kid": kid}
    if private:
        jwk["d"] = forge.b64u(secret[:32])
    return jwk


def public_key_spellings(
    key: ec.EllipticCurvePublicKey | Ed25519PublicKey, jwk: dict[str, Any]
) -> dict[str, bytes]:
    """Every common spelling of a public key, as the bytes a confused verifier would use as HMAC secret."""
    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    ssh = "ssh-ed25519" if isinstance(key, Ed25519PublicKey) else "ecdsa-sha2-nistp256"
    if isinstance(key, Ed25519PublicKey):
        raw = ("raw 32-byte public key", key.public_bytes_raw())
    else:
        raw = (
            "raw 65-byte point",
            key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint),
        )
    return {
        "PEM SPKI": pem,
        "PEM with leading whitespace": b"\n  " + pem,
        f"OpenSSH {ssh}": key.public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        ),
        "DER SPKI": key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "JWK JSON text": json.dumps(jwk).encode(),
        raw[0]: raw[1],
    }
