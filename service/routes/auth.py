"""``/auth``: login, refresh, logout, logout-all.

The refresh token travels only in the refresh cookie (:mod:`service.auth.credentials`):
``__Host-refresh_token`` with ``Secure; Path=/``, or ``refresh_token`` with ``Path=/auth`` when
``TOKENBENCH_COOKIE_SECURE=false``; always ``HttpOnly`` (no script reads it), ``SameSite=Strict`` (no
cross-site request carries it) and ``Max-Age`` = what is left of the refresh session. Token responses are
``Cache-Control: no-store``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Final

import msgspec
from litestar import Request, Response, post
from litestar.datastructures import Cookie
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from formats import TokenError
from service.accounts import canonical_username
from service.auth.credentials import PLAIN_REFRESH_COOKIE, RefreshCookie, refresh_token, refresh_tokens
from service.auth.csrf import requires_csrf_header
from service.auth.guards import claims_of, requires_permission
from service.auth.middleware import EXCLUDE_FROM_AUTH
from service.auth.roles import Permission, Role
from service.auth.sessions import TokenPair
from service.errors import InvalidCredentials
from service.passwords import MAX_PASSWORD_CHARS
from service.routes.admin import Username
from service.services import Services, ServicesDep
from service.stores import SessionGenerationChanged, SessionRevoked

__all__ = ["login", "logout", "logout_all", "presented_refresh_token", "refresh", "route_handlers"]

ROTATION_HEADER: Final = "X-Refresh-Rotation"
"""On refresh responses: ``rotated`` (this request rotated the family) or ``grace-retry`` (a retry of a token
rotated within the grace window, answered with the same successor). The page shows it per tab."""
_NO_STORE: Final = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_OPEN: Final = {EXCLUDE_FROM_AUTH: True}


class LoginBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``POST /auth/login`` body."""

    username: Username
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_PASSWORD_CHARS)]


class TokenBody(msgspec.Struct, frozen=True):
    """What login and refresh return (the refresh token goes in the cookie, not here)."""

    access_token: str
    token_type: str
    expires_in: int
    format: str


def _token_response(services: Services, pair: TokenPair) -> Response[TokenBody]:
    body = TokenBody(
        access_token=pair.access_token,
        token_type="Bearer",  # noqa: S106 - the RFC 6750 token type, not a secret
        expires_in=pair.expires_in,
        format=services.fmt.name.value,
    )
    headers = dict(_NO_STORE)
    if pair.rotated is not None:
        headers[ROTATION_HEADER] = "rotated" if pair.rotated else "grace-retry"
    return Response(
        body,
        status_code=HTTP_200_OK,
        headers=headers,
        cookies=[_refresh_cookie(services, pair.refresh_token, pair.refresh_expires_in)],
    )


def _refresh_cookie(services: Services, value: str, max_age: int) -> Cookie:
    cookie = RefreshCookie.of(secure=services.settings.cookie_secure)
    return Cookie(
        key=cookie.name,
        value=value,
        max_age=max_age,
        path=cookie.path,
        secure=cookie.secure,
        httponly=True,
        samesite="strict",
    )


_TOSSED_PATHS: Final = ("/", "/auth", "/auth/", "/auth/logout", "/auth/refresh")
"""Every path a cookie can be scoped to and still reach ``/auth/logout`` or ``/auth/refresh``."""
_HOST_NAME: Final = re.compile(
    r"(?=.{1,253}\Z)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}\Z"
)
"""A DNS name of two labels or more whose last label is not numeric (never an IP address)."""


def _cleared_cookies(request: Request[Any, Any, Any], services: Services) -> list[Cookie]:
    """``Set-Cookie`` headers that expire every refresh cookie this browser may hold for this service.

    With ``__Host-`` there is only the one (host-only, ``Path=/``), plus the plain ``refresh_token`` an
    older version set at ``/auth``. Without it, a planted ``refresh_token`` may be scoped to any path
    that reaches ``/auth`` and to this host's name or a parent domain: a cookie is expired only by a
    ``Set-Cookie`` naming the same domain and path, so each combination is expired (a browser ignores the
    ones it holds no cookie for, and refuses a ``Domain`` that is a public suffix).
    """
    if services.settings.cookie_secure:
        return [_refresh_cookie(services, "", 0), _expired(PLAIN_REFRESH_COOKIE.name, "/auth", None)]
    host = (request.url.hostname or "").lower()
    labels = host.split(".") if _HOST_NAME.match(host) else []
    domains: list[str | None] = [None, *(".".join(labels[i:]) for i in range(len(labels) - 1))]
    return [_expired(PLAIN_REFRESH_COOKIE.name, path, domain) for domain in domains for path in _TOSSED_PATHS]


def _expired(name: str, path: str, domain: str | None) -> Cookie:
    return Cookie(key=name, value="", max_age=0, path=path, domain=domain, httponly=True, samesite="strict")


def presented_refresh_token(request: Request[Any, Any, Any], services: Services) -> str:
    """The request's one refresh cookie (:func:`service.auth.credentials.refresh_token`)."""
    return refresh_token(request.scope["headers"], RefreshCookie.of(secure=services.settings.cookie_secure))


@post("/auth/login", opt=_OPEN, status_code=HTTP_200_OK, summary="Log in with user name and password")
async def login(
    request: Request[Any, Any, Any], data: JSONBody[LoginBody], services: ServicesDep
) -> Response[TokenBody]:
    """Check the password (argon2id) and start a refresh session.

    Rate-limited per user name and address, per address and per account (:mod:`service.throttle`) before
    any argon2 work; the password check waits in a bounded queue where addresses with fewer unsuccessful
    attempts go first (503 past it, :mod:`service.passwords`).
    """
    username = canonical_username(data.username)  # user names are case-insensitive (service.accounts)
    attempt = await services.throttle.begin(
        username=username,
        host=request.client.host if request.client else None,
        now=services.clock().timestamp(),
    )
    services.hasher.check_room(attempt.priority)  # a full argon2 queue: 503 before any database read
    generation = await services.stores.sessions.generation(username)  # before the read: see below
    user = await services.stores.users.get(username)
    matches = await services.hasher.verify(
        None if user is None else user.password_hash, data.password, priority=attempt.priority
    )
    if user is None or not matches:
        raise InvalidCredentials("wrong user name or password")
    await attempt.succeeded()
    # The read above is as old as the argon2 wait: go on with the user as stored now (service.accounts),
    # and start the session only if no revocation happened since `generation` was read.
    user = await services.accounts.confirm_login(user, data.password)
    try:
        pair = await services.sessions.start(user.username, Role(user.role), generation=generation)
    except SessionGenerationChanged:
        raise InvalidCredentials("wrong user name or password") from None
    return _token_response(services, pair)


@post(
    "/auth/refresh",
    opt=_OPEN,
    guards=[requires_csrf_header],
    status_code=HTTP_200_OK,
    summary="Rotate the refresh token",
)
async def refresh(request: Request[Any, Any, Any], services: ServicesDep) -> Response[TokenBody]:
    """A new access token and a new refresh cookie; the presented refresh token is used up."""
    pair = await services.sessions.refresh(presented_refresh_token(request, services))
    return _token_response(services, pair)


@post(
    "/auth/logout",
    opt=_OPEN,
    guards=[requires_csrf_header],
    status_code=HTTP_204_NO_CONTENT,
    summary="End this refresh session",
)
async def logout(request: Request[Any, Any, Any], services: ServicesDep) -> Response[None]:
    """Revoke the cookie's refresh family and clear the cookie.

    Two or more refresh cookies (one planted by cookie tossing, say) do not block logout: every one that
    verifies has its family revoked, and every refresh cookie is cleared. Only when none verifies is the
    answer the first one's error.
    """
    cookie = RefreshCookie.of(secure=services.settings.cookie_secure)
    tokens = refresh_tokens(request.scope["headers"], cookie)
    failures: list[Exception] = []
    for token in tokens:
        try:
            await services.sessions.logout(token)
        except (TokenError, SessionRevoked) as exc:
            failures.append(exc)
    if len(failures) == len(tokens):
        raise failures[0]
    return Response(
        None,
        status_code=HTTP_204_NO_CONTENT,
        headers=_NO_STORE,
        cookies=_cleared_cookies(request, services),
    )


@post(
    "/auth/logout-all",
    status_code=HTTP_204_NO_CONTENT,
    opt=requires_permission(Permission.SESSIONS_REVOKE),
    guards=[requires_csrf_header],
    security=[{"BearerToken": []}],
    summary="End every refresh session of the caller",
)
async def logout_all(request: Request[Any, Any, Any], services: ServicesDep) -> Response[None]:
    """Revoke every refresh family of the access token's user; live access tokens run out on their own."""
    await services.sessions.logout_all(claims_of(request).sub)
    return Response(
        None,
        status_code=HTTP_204_NO_CONTENT,
        headers=_NO_STORE,
        cookies=_cleared_cookies(request, services),
    )


route_handlers: Final = [login, refresh, logout, logout_all]
