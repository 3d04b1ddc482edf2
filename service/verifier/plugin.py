"""``TokenVerifier``: protect the routes of any Litestar app with tokenbench access tokens.

    from service.verifier import TokenVerifier

    verifier = TokenVerifier("https://auth.example", "paseto-v4-public")
    app = Litestar([my_routes], plugins=[verifier])   # request.user is the verified formats.Claims

The plugin adds one authentication middleware (``Authorization: Bearer``, the same parsing as the issuer's
own), starts and stops the :class:`KeySetClient` with the app, and answers refused tokens the way the
issuer does: 401 with ``WWW-Authenticate: Bearer error="invalid_token"`` and a JSON body whose ``code`` is
the :mod:`formats.errors` code. Routes state what they need with ``opt=requires_role(...)`` or
``opt=requires_permission(...)`` (:mod:`service.auth.guards`), checked after the token verifies (403).
Routes opt out with ``opt={"exclude_from_auth": True}``.
"""

from __future__ import annotations

from collections.abc import Sequence

from litestar.config.app import AppConfig
from litestar.middleware import DefineMiddleware
from litestar.plugins import InitPlugin
from litestar.types import ASGIApp, Receive, Scope, Send

from formats import ClaimPolicy, FormatName, TokenError
from service.auth.credentials import bearer_token
from service.auth.middleware import RouteNeeds, authorize, check_requirements
from service.errors import ApiError, exception_handlers
from service.verifier.client import KeySetClient
from service.verifier.window import KeySetWindow

__all__ = ["KeySetMiddleware", "TokenVerifier"]


class KeySetMiddleware:
    """Verifies ``Authorization: Bearer <token>`` with a :class:`KeySetClient`, then the route's requirements.

    The requirements are ``requires_role`` / ``requires_permission`` route metadata, checked as the issuer's
    own middleware checks them (:class:`service.auth.middleware.RouteNeeds`).
    """

    __slots__ = ("_client", "_needs", "app")

    def __init__(
        self, app: ASGIApp, *, client: KeySetClient | KeySetWindow, exclude: Sequence[str] = ()
    ) -> None:
        self.app = app
        self._client = client
        self._needs = RouteNeeds(exclude)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Authenticate and authorize, or raise the token error (401/403 through the plugin's handlers)."""
        needs = self._needs.of(scope)
        if needs is not None:
            token = bearer_token(scope["headers"])
            claims = await self._client.verify(token)
            authorize(claims, needs)
            scope["user"] = claims
            scope["auth"] = token
        await self.app(scope, receive, send)


class TokenVerifier(InitPlugin):
    """A Litestar plugin: tokenbench access tokens on every route, verified with the issuer's public keys."""

    __slots__ = ("client", "exclude")

    def __init__(
        self,
        issuer_url: str | None = None,
        format_name: FormatName | str | None = None,
        *,
        client: KeySetClient | KeySetWindow | None = None,
        policy: ClaimPolicy | None = None,
        exclude: Sequence[str] = ("^/schema",),
    ) -> None:
        if client is None:
            if issuer_url is None or format_name is None:
                raise TypeError("TokenVerifier needs issuer_url and format_name, or a client")
            client = KeySetClient(issuer_url, format_name, policy=policy)
        self.client = client
        self.exclude = tuple(exclude)

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        """Add the middleware, the client's start and stop, and the 401 responses."""
        app_config.middleware.append(
            DefineMiddleware(KeySetMiddleware, client=self.client, exclude=self.exclude)
        )
        app_config.on_startup.append(check_requirements)  # a malformed requirement stops start-up
        app_config.on_startup.append(self.client.start)
        app_config.on_shutdown.append(self.client.close)
        for error in (ApiError, TokenError):
            app_config.exception_handlers.setdefault(error, exception_handlers[error])
        return app_config
