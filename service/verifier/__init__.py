"""Verifying tokenbench tokens without the issuer's private key or database.

* :class:`KeySetClient` fetches the issuer's published public keys (``/.well-known/jwks.json`` or
  ``paserk.json``), caches them, and follows rotations;
* :class:`TokenVerifier` is a Litestar plugin that protects another app's routes with them;
* :mod:`service.verifier.app` is ``tokenbench serve --verify-only``, built from the two.

Only asymmetric formats can be verified this way: a verifier of ``jwt-hs256`` or ``paseto-v4-local``
would need the secret, and whoever holds it can mint tokens (``docs/scale-out.md``).
"""

from __future__ import annotations

from service.verifier.client import KeySetClient, KeySetStatus, symmetric_refusal
from service.verifier.plugin import TokenVerifier

__all__ = ["KeySetClient", "KeySetStatus", "TokenVerifier", "symmetric_refusal"]
