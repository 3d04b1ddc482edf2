"""``/auth``: login, refresh, logout, logout-all.

The refresh token travels only in the ``refresh_token`` cookie: ``HttpOnly`` (no script reads it),
``Secure``, ``SameSite=Strict`` (no cross-site request carries it), ``Path=/auth`` (sent to these routes
only), ``Max-Age`` = the refresh lifetime. Token responses are ``Cache-Control: no-store``.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

import msgspec
from litestar import Request, Response, post
from litestar.datastructures import Cookie
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from service.auth.csrf import requires_csrf_header
from service.auth.guards import claims_of, requires_permission
from service.auth.middleware import EXCLUDE_FROM_AUTH, MAX_CREDENTIAL_BYTES
from service.auth.roles import Permission, Role
from service.auth.sessions import TokenPair
from service.errors import InvalidCredentials, InvalidToken, MissingCredentials
from service.passwords import MAX_PASSWORD_CHARS
from service.services import Services, ServicesDep
from service.stores import SessionGenerationChanged

__all__ = ["REFRESH_COOKIE", "login", "logout", "logout_all", "refresh", "route_handlers"]

REFRESH_COOKIE: Final = "refresh_token"
ROTATION_HEADER: Final = "X-Refresh-Rotation"
"""On refresh responses: ``rotated`` (this request rotated the family) or ``grace-retry`` (a retry of a token
rotated within the grace window, answered with the same successor). The page shows it per tab."""
COOKIE_PATH: Final = "/auth"
_NO_STORE: Final = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_OPEN: Final = {EXCLUDE_FROM_AUTH: True}


class LoginBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``POST /auth/login`` body."""

    username: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
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
    return Cookie(
        key=REFRESH_COOKIE,
        value=value,
        max_age=max_age,
        path=COOKIE_PATH,
        secure=services.settings.cookie_secure,
        httponly=True,
        samesite="strict",
    )


_REFRESH_COOKIE_NAME: Final = REFRESH_COOKIE.encode()


def _presented_refresh_token(request: Request[Any, Any, Any]) -> str:
    """The one refresh cookie, refusing an oversized Cookie header before parsing it.

    Two ``refresh_token`` cookies in one request are refused rather than resolved: a cookie planted for a
    parent domain or another path (cookie tossing) would otherwise decide whose session is refreshed.
    """
    raw = [value for name, value in request.scope["headers"] if name == b"cookie"]
    if sum(len(value) for value in raw) > MAX_CREDENTIAL_BYTES:
        raise InvalidToken("Cookie header over 8 KiB", code="token_malformed")
    names = [pair.split(b"=", 1)[0].strip() for value in raw for pair in value.split(b";")]
    if names.count(_REFRESH_COOKIE_NAME) > 1:
        raise InvalidToken("more than one refresh_token cookie", code="token_malformed")
    token = request.cookies.get(REFRESH_COOKIE)
    if not token:
        raise MissingCredentials("no refresh_token cookie; log in first")
    return token


@post("/auth/login", opt=_OPEN, status_code=HTTP_200_OK, summary="Log in with user name and password")
async def login(
    request: Request[Any, Any, Any], data: JSONBody[LoginBody], services: ServicesDep
) -> Response[TokenBody]:
    """Check the password (argon2id) and start a refresh session.

    Rate-limited per user name and address, per address and per account (:mod:`service.throttle`) before
    any argon2 work; the password check waits in a bounded queue where addresses with fewer unsuccessful
    attempts go first (503 past it, :mod:`service.passwords`).
    """
    attempt = await services.throttle.begin(
        username=data.username,
        host=request.client.host if request.client else None,
        now=services.clock().timestamp(),
    )
    services.hasher.check_room(attempt.priority)  # a full argon2 queue: 503 before any database read
    generation = await services.stores.sessions.generation(data.username)  # before the read: see below
    user = await services.stores.users.get(data.username)
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
    pair = await services.sessions.refresh(_presented_refresh_token(request))
    return _token_response(services, pair)


@post(
    "/auth/logout",
    opt=_OPEN,
    guards=[requires_csrf_header],
    status_code=HTTP_204_NO_CONTENT,
    summary="End this refresh session",
)
async def logout(request: Request[Any, Any, Any], services: ServicesDep) -> Response[None]:
    """Revoke the cookie's refresh family and clear the cookie."""
    await services.sessions.logout(_presented_refresh_token(request))
    return Response(
        None,
        status_code=HTTP_204_NO_CONTENT,
        headers=_NO_STORE,
        cookies=[_refresh_cookie(services, "", 0)],
    )


@post(
    "/auth/logout-all",
    status_code=HTTP_204_NO_CONTENT,
    guards=[requires_csrf_header, requires_permission(Permission.SESSIONS_REVOKE)],
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
        cookies=[_refresh_cookie(services, "", 0)],
    )


route_handlers: Final = [login, refresh, logout, logout_all]
