"""Authorization guards: ``requires_role`` and ``requires_permission``.

Both read the claims the middleware verified (``connection.user``); neither touches a store. They are
``async def`` on purpose: Litestar runs a plain ``def`` guard in a thread pool, which costs more than the
check itself on every request.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from formats import Claims
from service.auth.roles import Permission, Role
from service.errors import InsufficientPermission, InsufficientRole, MissingCredentials

__all__ = ["claims_of", "requires_permission", "requires_role"]


def claims_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Claims:
    """The verified claims of the request; MissingCredentials if the route skipped authentication."""
    claims = connection.scope.get("user")
    if not isinstance(claims, Claims):
        raise MissingCredentials("this route needs an access token")
    return claims


def requires_role(*roles: Role) -> Guard:
    """A guard that lets through tokens whose ``role`` is one of ``roles``."""
    allowed = frozenset(role.value for role in roles)
    names = ", ".join(sorted(allowed))

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if claims_of(connection).role not in allowed:
            raise InsufficientRole(f"this route needs the role {names}")

    guard.__qualname__ = guard.__name__ = f"requires_role({names})"
    return guard


def requires_permission(permission: Permission) -> Guard:
    """A guard that lets through tokens whose ``perms`` include ``permission``."""
    needed = permission.value

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if needed not in claims_of(connection).perms:
            raise InsufficientPermission(f"this route needs the permission {needed}")

    guard.__qualname__ = guard.__name__ = f"requires_permission({needed})"
    return guard
