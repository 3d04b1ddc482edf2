"""The one Ed25519 check of the project, shared by ``paseto-v4-public`` and ``jwt-eddsa``.

Both formats verify through this function, so a difference between them in the benchmarks or the attack
matrix is the envelope's (JWS compact or PASETO v4), never the primitive's. The Wycheproof Ed25519 vectors
go through it.
"""

from __future__ import annotations

from typing import Final

import nacl.bindings
import nacl.exceptions

__all__ = ["PUBLIC_BYTES", "SEED_BYTES", "SIGNATURE_BYTES", "ed25519_verify", "keypair_from_seed"]

SIGNATURE_BYTES: Final = 64
PUBLIC_BYTES: Final = 32
SEED_BYTES: Final = 32


def ed25519_verify(public: bytes, message: bytes, signature: bytes) -> bool:
    """Ed25519 (RFC 8032) through libsodium: True only for a 64-byte signature valid over ``message``.

    libsodium refuses non-canonical ``S`` (at least the group order), small-order and non-canonical public
    keys and ``R`` values, as the Wycheproof file expects.
    """
    if len(signature) != SIGNATURE_BYTES:
        return False
    try:
        nacl.bindings.crypto_sign_open(signature + message, public)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError):
        return False
    return True


def keypair_from_seed(seed: bytes) -> tuple[bytes, bytes]:
    """``(public, secret)`` of a 32-byte seed; ``secret`` is libsodium's 64-byte ``seed || public``."""
    public, secret = nacl.bindings.crypto_sign_seed_keypair(seed)
    return public, secret
