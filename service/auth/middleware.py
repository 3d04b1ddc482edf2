"""Bearer authentication and authorization: one ASGI middleware in front of every protected route.

For each HTTP request or websocket handshake to a protected route it reads the ``Authorization`` header
straight from the ASGI scope with :func:`service.auth.credentials.bearer_token` (which refuses anything
over 8 KiB unparsed), calls ``fmt.verify(token, kind=Kind.ACCESS)`` on the event loop (no thread pool:
verify is a few microseconds of CPU, a thread hop costs more), checks the route's
:mod:`service.auth.guards` requirements on the verified claims, and only then sets ``scope["user"]`` (the
:class:`formats.Claims`, so ``request.user``) and ``scope["auth"]`` (the token string). There are no format
branches here: the verifier is the issued :class:`formats.TokenFormat` the app was built with or, during a
migration, the :class:`formats.migration.Migration` that also accepts the old format.

Access tokens are stateless: no store is asked, so a database or Redis outage never blocks them.
Routes (or their router) opt out with ``opt={"exclude_from_auth": True}``, the ``/schema`` router
included. An ``OPTIONS`` request passes unauthenticated only to a route that states no requirement (as
with Litestar's authentication middleware); a route that needs a role or a permission needs a token
for every method, as it did when the requirements were guards.

What each route needs is worked out once per route handler and kept (:class:`RouteNeeds`): the
per-request work is one dictionary look-up besides the token itself (``docs/service.md``, "The
per-request path"). :func:`check_requirements` works every route of an app out at start-up, so a
malformed requirement stops the app instead of failing each request. The verify-only service and the
``TokenVerifier`` plugin (:mod:`service.verifier.plugin`) enforce the same requirements with the same
:class:`RouteNeeds`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

from litestar import Litestar
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from formats import Claims, Kind
from formats.migration import Verifier
from service.auth.credentials import bearer_token
from service.auth.guards import Requirement, requirements_in

__all__ = ["EXCLUDE_FROM_AUTH", "BearerAuthMiddleware", "RouteNeeds", "authorize", "check_requirements"]

EXCLUDE_FROM_AUTH: Final = "exclude_from_auth"

_PROTECTED: Final = frozenset({ScopeType.HTTP, ScopeType.WEBSOCKET})


class RouteNeeds:
    """What a route needs, by its handler: None (no token) or the requirements a verified token must meet.

    ``exclude`` are path patterns (as Litestar's authentication middleware takes them) that need no token
    unless their route states a requirement.
    """

    __slots__ = ("_exclude", "_needs")

    def __init__(self, exclude: Sequence[str] = ()) -> None:
        self._needs: dict[Any, tuple[Requirement, ...] | None] = {}
        self._exclude = re.compile("|".join(exclude)) if exclude else None

    def of(self, scope: Scope) -> tuple[Requirement, ...] | None:
        """The requirements of the scope's route, or None if this request takes no token."""
        if scope["type"] not in _PROTECTED:
            return None
        handler = scope["route_handler"]
        try:
            needs = self._needs[handler]
        except KeyError:
            needs = self._needs[handler] = self.of_handler(handler)
        if needs is None:
            return None
        if scope["type"] == ScopeType.HTTP and scope["method"] == "OPTIONS" and not needs:
            return None
        if not needs and self._exclude is not None and self._exclude.search(scope["path"]):
            return None
        return needs

    @staticmethod
    def of_handler(handler: Any) -> tuple[Requirement, ...] | None:
        """The handler's requirements (app to handler), or None if it opted out and states none."""
        requirements = requirements_in(handler.ownership_layers)
        if handler.opt.get(EXCLUDE_FROM_AUTH) and not requirements:
            return None
        return requirements


def authorize(claims: Claims, needs: tuple[Requirement, ...]) -> None:
    """Raise the 403 of the first requirement ``claims`` do not meet."""
    for requirement in needs:
        requirement.check(claims)


def check_requirements(app: Litestar) -> None:
    """Work out every route's requirements now: a malformed one raises TypeError at start-up."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()) or (getattr(route, "route_handler", None),):
            if handler is not None:
                RouteNeeds.of_handler(handler)


class BearerAuthMiddleware:
    """Verifies ``Authorization: Bearer <token>`` and the route's requirements (see the module doc)."""

    __slots__ = ("_fmt", "_needs", "app")

    def __init__(self, app: ASGIApp, *, fmt: Verifier) -> None:
        self.app = app
        self._fmt = fmt
        self._needs = RouteNeeds()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Authenticate and authorize the request, or raise the RFC 6750 error (via :mod:`service.errors`)."""
        needs = self._needs.of(scope)
        if needs is not None:
            token = bearer_token(scope["headers"])
            claims = self._fmt.verify(token, kind=Kind.ACCESS)
            authorize(claims, needs)
            scope["user"] = claims
            scope["auth"] = token
        await self.app(scope, receive, send)
