"""Bearer authentication and authorization: one ASGI middleware in front of every protected route.

For each HTTP request to a protected route it reads the ``Authorization`` header straight from the ASGI
scope with :func:`service.auth.credentials.bearer_token` (which refuses anything over 8 KiB unparsed),
calls ``fmt.verify(token, kind=Kind.ACCESS)`` on the event loop (no thread pool: verify is a few
microseconds of CPU, a thread hop costs more), checks the route's :mod:`service.auth.guards` requirements
on the verified claims, and only then sets ``scope["user"]`` (the :class:`formats.Claims`, so
``request.user``) and ``scope["auth"]`` (the token string). There are no format branches here: the
verifier is the issued :class:`formats.TokenFormat` the app was built with or, during a migration, the
:class:`formats.migration.Migration` that also accepts the old format.

Access tokens are stateless: no store is asked, so a database or Redis outage never blocks them.
Routes (or their router) opt out with ``opt={"exclude_from_auth": True}``, the ``/schema`` router
included; ``OPTIONS`` requests pass unauthenticated, as with Litestar's authentication middleware.

What each route needs is worked out once per route handler, on its first request, and kept: the
per-request work is one dictionary look-up besides the token itself (``docs/service.md``, "The
per-request path").
"""

from __future__ import annotations

from typing import Any, Final

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from formats import Kind
from formats.migration import Verifier
from service.auth.credentials import bearer_token
from service.auth.guards import Requirement, requirements_in

__all__ = ["EXCLUDE_FROM_AUTH", "BearerAuthMiddleware"]

EXCLUDE_FROM_AUTH: Final = "exclude_from_auth"

_OPEN: Final = None
"""What :meth:`BearerAuthMiddleware._needs_of` answers for a route that takes no token."""


class BearerAuthMiddleware:
    """Verifies ``Authorization: Bearer <token>`` and the route's requirements (see the module doc)."""

    __slots__ = ("_fmt", "_needs", "app")

    def __init__(self, app: ASGIApp, *, fmt: Verifier) -> None:
        self.app = app
        self._fmt = fmt
        self._needs: dict[Any, tuple[Requirement, ...] | None] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Authenticate and authorize the request, or raise the RFC 6750 error (via :mod:`service.errors`)."""
        if scope["type"] == ScopeType.HTTP and scope["method"] != "OPTIONS":
            handler = scope["route_handler"]
            try:
                needs = self._needs[handler]
            except KeyError:
                needs = self._needs[handler] = self._needs_of(handler)
            if needs is not _OPEN:
                token = bearer_token(scope["headers"])
                claims = self._fmt.verify(token, kind=Kind.ACCESS)
                for requirement in needs:
                    requirement.check(claims)
                scope["user"] = claims
                scope["auth"] = token
        await self.app(scope, receive, send)

    @staticmethod
    def _needs_of(handler: Any) -> tuple[Requirement, ...] | None:
        """The route's requirements (app to handler), or ``_OPEN`` if it opted out and states none."""
        requirements = requirements_in(handler.ownership_layers)
        if handler.opt.get(EXCLUDE_FROM_AUTH) and not requirements:
            return _OPEN
        return requirements
