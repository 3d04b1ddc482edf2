"""Where library exceptions become ``TokenError``: one table per library, one context manager.

Used around every call into pyjwt or pyseto (issuing, and the bare-library comparisons of the attack
suite). A test enumerates every exception class of ``jwt.exceptions`` and ``pyseto.exceptions`` and checks
it has an entry here, so a library upgrade that adds one fails loudly instead of leaking a 500.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Final

import jwt.exceptions as jwt_exc
import pyseto.exceptions as pyseto_exc

from formats import errors as e

__all__ = ["PYJWT_ERRORS", "PYSETO_ERRORS", "library_errors", "translate"]

PYJWT_ERRORS: Final[Mapping[type[Exception], type[e.TokenError]]] = {
    jwt_exc.ExpiredSignatureError: e.TokenExpired,
    jwt_exc.ImmatureSignatureError: e.TokenNotYetValid,
    jwt_exc.InvalidSignatureError: e.TokenBadSignature,
    jwt_exc.InvalidAlgorithmError: e.TokenMalformed,
    jwt_exc.DecodeError: e.TokenMalformed,
    jwt_exc.InvalidAudienceError: e.TokenClaimsInvalid,
    jwt_exc.InvalidIssuerError: e.TokenClaimsInvalid,
    jwt_exc.InvalidIssuedAtError: e.TokenClaimsInvalid,
    jwt_exc.InvalidSubjectError: e.TokenClaimsInvalid,
    jwt_exc.InvalidJTIError: e.TokenClaimsInvalid,
    jwt_exc.MissingRequiredClaimError: e.TokenClaimsInvalid,
    jwt_exc.InvalidKeyError: e.TokenUnknownKey,
    jwt_exc.MissingCryptographyError: e.TokenUnknownKey,
    jwt_exc.PyJWKClientConnectionError: e.TokenUnknownKey,
    jwt_exc.PyJWKClientError: e.TokenUnknownKey,
    jwt_exc.PyJWKSetError: e.TokenUnknownKey,
    jwt_exc.PyJWKError: e.TokenUnknownKey,
    jwt_exc.InvalidTokenError: e.TokenMalformed,
    jwt_exc.PyJWTError: e.TokenMalformed,
}

PYSETO_ERRORS: Final[Mapping[type[Exception], type[e.TokenError]]] = {
    pyseto_exc.DecryptError: e.TokenBadSignature,
    pyseto_exc.VerifyError: e.TokenBadSignature,
    pyseto_exc.SignError: e.TokenUnknownKey,
    pyseto_exc.EncryptError: e.TokenUnknownKey,
    pyseto_exc.NotSupportedError: e.TokenMalformed,
    pyseto_exc.PysetoError: e.TokenMalformed,
}

# pyseto reports parse failures as bare ValueError and its subclasses (binascii.Error,
# UnicodeDecodeError, ...) and sometimes TypeError/KeyError from inside its JSON handling.
_OTHER_ERRORS: Final[Mapping[type[Exception], type[e.TokenError]]] = {
    binascii.Error: e.TokenMalformed,
    UnicodeError: e.TokenMalformed,
    ValueError: e.TokenMalformed,
    TypeError: e.TokenMalformed,
    KeyError: e.TokenMalformed,
    OverflowError: e.TokenMalformed,
}

_TABLE: Final = {**PYJWT_ERRORS, **PYSETO_ERRORS, **_OTHER_ERRORS}


def translate(exc: Exception) -> e.TokenError:
    """The ``TokenError`` for a library exception (its most specific mapped class wins)."""
    if isinstance(exc, e.TokenError):
        return exc
    for cls in type(exc).__mro__:
        target = _TABLE.get(cls)
        if target is not None:
            return target(f"{type(exc).__name__}: {exc}")
    return e.TokenMalformed(f"{type(exc).__name__}: {exc}")


@contextmanager
def library_errors() -> Iterator[None]:
    """Re-raise any exception of pyjwt, pyseto or their parsers as the matching ``TokenError``."""
    try:
        yield
    except e.TokenError:
        raise
    except Exception as exc:
        raise translate(exc) from exc
