"""Bearer authentication: one async middleware that verifies the access token of every protected request.

It reads the ``Authorization`` header straight from the ASGI scope, refuses anything over 8 KiB before
parsing it, and calls ``fmt.verify(token, kind=Kind.ACCESS)`` on the event loop (no thread pool: verify
is a few microseconds of CPU, a thread hop costs more). On success ``request.user`` is the verified
:class:`formats.Claims` and ``request.auth`` the token string. There are no format branches here: the
format is whatever :class:`formats.TokenFormat` the app was built with.

Access tokens are stateless: no store is asked, so a database or Redis outage never blocks them.
Routes opt out with ``opt={"exclude_from_auth": True}``; ``/schema`` is excluded by path.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.middleware.authentication import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import ASGIApp

from formats import MAX_TOKEN_CHARS, Kind, TokenFormat
from service.errors import InvalidToken, MissingCredentials

__all__ = ["EXCLUDE_FROM_AUTH", "MAX_CREDENTIAL_BYTES", "BearerAuthMiddleware"]

EXCLUDE_FROM_AUTH: Final = "exclude_from_auth"
MAX_CREDENTIAL_BYTES: Final = MAX_TOKEN_CHARS
"""An ``Authorization`` or ``Cookie`` header longer than this is refused unparsed: the formats' own token
cap, so no header the formats would refuse anyway is parsed."""

_AUTHORIZATION: Final = b"authorization"


class BearerAuthMiddleware(AbstractAuthenticationMiddleware):
    """Verifies ``Authorization: Bearer <token>`` with the app's token format."""

    __slots__ = ("_fmt",)

    def __init__(self, app: ASGIApp, *, fmt: TokenFormat) -> None:
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


def bearer_token(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """The token of the one ``Authorization: Bearer`` header; raise MissingCredentials or InvalidToken."""
    values = [value for name, value in headers if name == _AUTHORIZATION]
    if not values:
        raise MissingCredentials("no Authorization header; send Authorization: Bearer <access token>")
    if len(values) > 1:
        raise InvalidToken("more than one Authorization header", code="token_malformed")
    value = values[0]
    if len(value) > MAX_CREDENTIAL_BYTES:
        raise InvalidToken("Authorization header over 8 KiB", code="token_malformed")
    scheme, _, token = value.partition(b" ")
    if scheme.lower() != b"bearer":
        raise MissingCredentials("the Authorization scheme is not Bearer")
    token = token.lstrip(b" ")
    if not token:
        raise InvalidToken("empty bearer token", code="token_malformed")
    return token.decode("latin-1")
