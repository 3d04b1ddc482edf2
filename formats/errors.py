"""The one error tree every format raises, with a stable machine code per failure.

::

    TokenError               (base; never raised itself)
    ├── TokenMalformed       token_malformed       not one accepted spelling of this format
    ├── TokenBadSignature    token_bad_signature   MAC, signature or decryption failed
    ├── TokenExpired         token_expired         now > exp + leeway
    ├── TokenNotYetValid     token_not_yet_valid   now < nbf - leeway, or iat in the future
    ├── TokenWrongKind       token_wrong_kind      a refresh token used as access token, or the reverse
    ├── TokenUnknownKey      token_unknown_key     the key id names no key of the ring
    ├── TokenClaimsInvalid   token_claims_invalid  a claim missing or mistyped, or iss/aud mismatch
    └── TokenRevoked         token_revoked         raised by the service's session store, not a format

``verify`` raises only these: it is the project's own code over the primitives, and every call into
pyjwt or pyseto (issuing, the attack suite's bare-library runs) goes through the one translation table,
``formats._translate.library_errors``, so no library exception escapes ``formats``.

Configuration problems (a weak key, a key file of the wrong type) are not token errors: they raise
:class:`KeyConfigError` at load time, with a message that names the file and the fix.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "KeyConfigError",
    "TokenBadSignature",
    "TokenClaimsInvalid",
    "TokenError",
    "TokenExpired",
    "TokenMalformed",
    "TokenNotYetValid",
    "TokenRevoked",
    "TokenUnknownKey",
    "TokenWrongKind",
]


class TokenError(Exception):
    """A token was refused. ``code`` is stable and machine-readable; the message is for humans."""

    code: ClassVar[str] = "token_invalid"


class TokenMalformed(TokenError):
    """Not one accepted spelling of the format: segments, base64url, JSON, header or footer."""

    code = "token_malformed"


class TokenBadSignature(TokenError):
    """The MAC or signature does not verify, or authenticated decryption failed."""

    code = "token_bad_signature"


class TokenExpired(TokenError):
    """The token's ``exp`` is further in the past than the leeway allows."""

    code = "token_expired"


class TokenNotYetValid(TokenError):
    """The token's ``nbf`` or ``iat`` lies further in the future than the leeway allows."""

    code = "token_not_yet_valid"


class TokenWrongKind(TokenError):
    """A refresh token was presented as an access token, or the reverse."""

    code = "token_wrong_kind"


class TokenUnknownKey(TokenError):
    """The key id of the token names no key in the key ring."""

    code = "token_unknown_key"


class TokenClaimsInvalid(TokenError):
    """A required claim is missing or of the wrong type, or ``iss``/``aud`` do not match."""

    code = "token_claims_invalid"


class TokenRevoked(TokenError):
    """The token is well-formed and signed, but its session was revoked or it was already used."""

    code = "token_revoked"


class KeyConfigError(ValueError):
    """A key (file or value) cannot be used: weak, of the wrong type, or unreadable.

    The message names where the key came from and how to fix it.
    """
