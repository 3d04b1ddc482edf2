"""Bearer authentication: one async middleware that verifies the access token of every protected request.

It reads the ``Authorization`` header straight from the ASGI scope with
:func:`service.auth.credentials.bearer_token` (which refuses anything over 8 KiB unparsed) and calls
``fmt.verify(token, kind=Kind.ACCESS)`` on the event loop (no thread pool: verify is a few microseconds
of CPU, a thread hop costs more). On success ``request.user`` is the verified
:class:`formats.Claims` and ``request.auth`` the token string. There are no format branches here: the
verifier is the issued :class:`formats.TokenFormat` the app was built with or, during a migration, the
:class:`formats.migration.Migration` that also accepts the old format.

Access tokens are stateless: no store is asked, so a database or Redis outage never blocks them.
Routes opt out with ``opt={"exclude_from_auth": True}``; ``/schema`` is excluded by path.
"""

from __future__ import annotations

from typing import Final

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.middleware.authentication import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import ASGIApp

from formats import Kind
from formats.migration import Verifier
from service.auth.credentials import bearer_token

__all__ = ["EXCLUDE_FROM_AUTH", "BearerAuthMiddleware"]

EXCLUDE_FROM_AUTH: Final = "exclude_from_auth"


class BearerAuthMiddleware(AbstractAuthenticationMiddleware):
    """Verifies ``Authorization: Bearer <token>`` with the app's token format (or migration window)."""

    __slots__ = ("_fmt",)

    def __init__(self, app: ASGIApp, *, fmt: Verifier) -> None:
        super().__init__(
            app,
            exclude=["^/schema"],
            exclude_from_auth_key=EXCLUDE_FROM_AUTH,
            scopes={ScopeType.HTTP},
        )
        self._fmt = fmt

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:  # type: ignore[type-arg]
        """Return the verified claims, or raise the RFC 6750 error (via :mod:`service.errors`)."""
        token = bearer_token(connection.scope["headers"])
        claims = self._fmt.verify(token, kind=Kind.ACCESS)
        return AuthenticationResult(user=claims, auth=token)
