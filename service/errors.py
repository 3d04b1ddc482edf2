"""The one place where errors become HTTP responses (RFC 6750 for everything about credentials).

Every error body is ``{"status_code", "detail", "code"}``; ``code`` is stable and machine-readable:

=======  ==========================================  ==================================================
status   code                                        ``WWW-Authenticate``
=======  ==========================================  ==================================================
400      ``invalid_request``                         -
400      ``duplicate_key`` (a JSON key twice)        -
400      ``invalid_request`` (a value the database  -
         refuses: NUL byte, surrogate, too long)
401      ``missing_credentials``                     ``Bearer``
401      ``token_*`` of :mod:`formats.errors`          ``Bearer error="invalid_token"``
401      ``token_revoked`` (store: revoked, reused)  ``Bearer error="invalid_token"``
401      ``invalid_credentials`` (login)             ``Bearer``
403      ``insufficient_role`` / ``_permission``     ``Bearer error="insufficient_scope"``
403      ``csrf_header_missing``                     -
403      ``role_revoked`` (admin write, see below)   ``Bearer error="insufficient_scope"``
404      ``not_found`` / ``user_not_found``          -
405      ``method_not_allowed``                      -
409      ``user_exists``                             -
409      ``last_admin``                              -
413      ``request_too_large``                       -
429      ``rate_limited`` (+ ``Retry-After``)        -
503      ``login_busy`` (+ ``Retry-After``)          -
503      ``store_unavailable``                       -
500      ``internal_error`` (a bug; logged)          -
=======  ==========================================  ==================================================

``role_revoked``: the access token still says ``admin``, but the caller's current role in the database
does not (demoted or deleted since the token was issued); admin writes check it, reads do not.

A bad, expired or revoked token is 401, not 403: 401 tells the client its credentials are the problem
(refresh or log in again); 403 means "you are who you say, and still may not" (``docs/service.md``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar, Final

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

from formats import TokenError
from service.passwords import HasherBusy
from service.stores.base import (
    ActorNotAdmin,
    LastAdmin,
    RateLimited,
    SessionReused,
    SessionRevoked,
    StoreRejected,
    StoreUnavailable,
    UserExists,
    UserNotFound,
)

__all__ = [
    "ApiError",
    "CsrfHeaderMissing",
    "ErrorBody",
    "InsufficientPermission",
    "InsufficientRole",
    "InvalidCredentials",
    "InvalidRequest",
    "InvalidToken",
    "MissingCredentials",
    "NotFound",
    "exception_handlers",
]

logger = logging.getLogger("tokenbench")

BEARER: Final = "Bearer"
INVALID_TOKEN: Final = 'Bearer error="invalid_token"'  # noqa: S105 - a challenge, not a secret
INSUFFICIENT_SCOPE: Final = 'Bearer error="insufficient_scope"'
_NO_STORE: Final = {"Cache-Control": "no-store"}


class ErrorBody(msgspec.Struct, frozen=True):
    """What every error response carries."""

    status_code: int
    detail: str
    code: str


class ApiError(Exception):
    """An error the service answers on purpose. Subclasses fix the status, code and challenge."""

    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "invalid_request"
    challenge: ClassVar[str | None] = None

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code  # type: ignore[misc]  # an instance may narrow the class's code


class InvalidRequest(ApiError):
    """The request itself is malformed (400)."""


class UnsupportedMediaType(ApiError):
    """A body that is not ``application/json``: a cross-site form (``text/plain``) must not pass as JSON."""

    status_code: ClassVar[int] = 415
    code: ClassVar[str] = "unsupported_media_type"


class MissingCredentials(ApiError):
    """No credentials at all (401 with a bare ``Bearer`` challenge, RFC 6750 §3.1)."""

    status_code = 401
    code = "missing_credentials"
    challenge = BEARER


class InvalidToken(ApiError):
    """Credentials present but unusable (401, ``error="invalid_token"``); ``code`` says why."""

    status_code = 401
    code = "token_malformed"
    challenge = INVALID_TOKEN


class InvalidCredentials(ApiError):
    """Login with a wrong user name or password; the same answer for both (401)."""

    status_code = 401
    code = "invalid_credentials"
    challenge = BEARER


class NotFound(ApiError):
    """Nothing at this path (404)."""

    status_code = 404
    code = "not_found"


class InsufficientRole(ApiError):
    """Authenticated, but the route needs another role (403, ``error="insufficient_scope"``)."""

    status_code = 403
    code = "insufficient_role"
    challenge = INSUFFICIENT_SCOPE


class InsufficientPermission(ApiError):
    """Authenticated, but the token lacks a permission the route needs (403)."""

    status_code = 403
    code = "insufficient_permission"
    challenge = INSUFFICIENT_SCOPE


class CsrfHeaderMissing(ApiError):
    """A cookie route called without ``X-Requested-With`` (403; see :mod:`service.auth.csrf`)."""

    status_code = 403
    code = "csrf_header_missing"


def error_response(
    status_code: int, detail: str, code: str, headers: Mapping[str, str] | None = None
) -> Response[ErrorBody]:
    """The JSON error response; never cached."""
    return Response(
        ErrorBody(status_code=status_code, detail=detail, code=code),
        status_code=status_code,
        headers={**_NO_STORE, **(headers or {})},
    )


def _api_error(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    assert isinstance(exc, ApiError)
    headers = {"WWW-Authenticate": exc.challenge} if exc.challenge else None
    return error_response(exc.status_code, exc.detail, exc.code, headers)


def _token_error(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    assert isinstance(exc, TokenError)
    return error_response(401, str(exc) or "invalid token", exc.code, {"WWW-Authenticate": INVALID_TOKEN})


def _session_error(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    detail = (
        "refresh token reused after rotation; the session is revoked"
        if isinstance(exc, SessionReused)
        else "refresh session revoked or expired"
    )
    return error_response(401, detail, "token_revoked", {"WWW-Authenticate": INVALID_TOKEN})


def _rate_limited(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    assert isinstance(exc, RateLimited)
    return error_response(
        429, "too many login attempts", "rate_limited", {"Retry-After": str(exc.retry_after)}
    )


def _hasher_busy(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    assert isinstance(exc, HasherBusy)
    return error_response(
        503,
        "too many logins in progress; try again later",
        "login_busy",
        {"Retry-After": str(exc.retry_after)},
    )


def _store_unavailable(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    logger.warning("store unavailable: %s", exc)
    return error_response(
        503, "a store is unavailable; try again later", "store_unavailable", {"Retry-After": "5"}
    )


def _store_rejected(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    # The request's fault, not an outage: no warning in the log (a NUL byte in a name used to read as one).
    logger.debug("store refused a value: %s", exc)
    return error_response(400, "the request holds a value the database cannot store", "invalid_request")


def _user_exists(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    return error_response(409, f"user {exc} already exists", "user_exists")


def _user_not_found(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    return error_response(404, f"no user {exc}", "user_not_found")


def _actor_not_admin(_: Request[Any, Any, Any], __: Exception) -> Response[ErrorBody]:
    return error_response(
        403,
        "your role is no longer admin (the token predates the change); log in again",
        "role_revoked",
        {"WWW-Authenticate": INSUFFICIENT_SCOPE},
    )


def _last_admin(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    return error_response(409, f"{exc} is the last admin; make another user admin first", "last_admin")


_HTTP_CODES: Final = {
    400: "invalid_request",
    401: "missing_credentials",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    503: "unavailable",
}


def _http_exception(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    """Litestar's own errors (routing, body validation, size limits) in our body shape."""
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    if status >= 500:
        return _internal_error(_, exc)
    detail = exc.detail
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list) and exc.extra:
        first = exc.extra[0]
        if isinstance(first, dict) and isinstance(first.get("message"), str):
            where = f" at {first['key']}" if isinstance(first.get("key"), str) else ""
            detail = f"invalid request body: {first['message'][:200]}{where[:100]}"
    headers = {k: v for k, v in (exc.headers or {}).items() if k.lower() in {"allow", "retry-after"}}
    return error_response(status, detail, _HTTP_CODES.get(status, "http_error"), headers)


def _internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal error", "internal_error")


exception_handlers: Final[ExceptionHandlersMap] = {
    ApiError: _api_error,
    TokenError: _token_error,
    SessionRevoked: _session_error,
    SessionReused: _session_error,
    RateLimited: _rate_limited,
    HasherBusy: _hasher_busy,
    StoreUnavailable: _store_unavailable,
    StoreRejected: _store_rejected,
    UserExists: _user_exists,
    UserNotFound: _user_not_found,
    ActorNotAdmin: _actor_not_admin,
    LastAdmin: _last_admin,
    HTTPException: _http_exception,
    Exception: _internal_error,
}
"""Handed to ``Litestar(exception_handlers=...)`` by :func:`service.app.create_app`."""
