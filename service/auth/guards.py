"""Authorization: ``requires_role`` and ``requires_permission``, route metadata the auth middleware checks.

    @get("/me", opt=requires_permission(Permission.PROFILE_READ))
    Router("/admin", opt=requires_role(Role.ADMIN), route_handlers=[...])

Each factory returns an ``opt`` mapping for a route handler, router or controller. The bearer middleware
(:mod:`service.auth.middleware`) collects the requirements of every layer that owns the route, app to
handler, the way Litestar collects guards (a router's role and a handler's permission both apply; no
layer's requirement replaces another's), and checks them on the verified claims right after ``verify``,
in that order. Neither touches a store.

Why not Litestar guards: Litestar passes each guard a fresh ``copy()`` of the route handler on every
request, which costs more than the check itself (``benchmarks/per_request.py`` prints it; ``docs/service.md``,
"The per-request path"). A requirement on a route that opted out of authentication (``exclude_from_auth``)
switches authentication back on: a route that needs a role always gets a verified token.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from litestar.connection import ASGIConnection

from formats import Claims
from service.auth.roles import Permission, Role
from service.errors import InsufficientPermission, InsufficientRole, MissingCredentials

__all__ = [
    "REQUIREMENT_KEYS",
    "Requirement",
    "claims_of",
    "requirements_in",
    "requires_permission",
    "requires_role",
]

_ROLE_KEY: Final = "requires_role"
_PERMISSION_KEY: Final = "requires_permission"
REQUIREMENT_KEYS: Final = (_ROLE_KEY, _PERMISSION_KEY)
"""The ``opt`` keys the factories set, in the order the middleware checks them within one layer."""


@dataclass(frozen=True, slots=True)
class Requirement:
    """One condition on the verified claims: the role is one of ``roles``, or ``permission`` is granted."""

    roles: frozenset[str] = frozenset()
    permission: str | None = None

    def check(self, claims: Claims) -> None:
        """Raise InsufficientRole or InsufficientPermission (403) unless ``claims`` meet this requirement."""
        if self.roles and claims.role not in self.roles:
            raise InsufficientRole(f"this route needs the role {', '.join(sorted(self.roles))}")
        if self.permission is not None and self.permission not in claims.perms:
            raise InsufficientPermission(f"this route needs the permission {self.permission}")


def requires_role(*roles: Role) -> dict[str, Requirement]:
    """Route ``opt`` that lets through tokens whose ``role`` is one of ``roles``."""
    return {_ROLE_KEY: Requirement(roles=frozenset(role.value for role in roles))}


def requires_permission(permission: Permission) -> dict[str, Requirement]:
    """Route ``opt`` that lets through tokens whose ``perms`` include ``permission``."""
    return {_PERMISSION_KEY: Requirement(permission=permission.value)}


def requirements_in(layers: Iterable[Any]) -> tuple[Requirement, ...]:
    """The requirements that the ``opt`` of ``layers`` (app to handler) state, each once, in order."""
    found: dict[Requirement, None] = {}
    for layer in layers:
        opt = getattr(layer, "opt", None) or {}
        for key in REQUIREMENT_KEYS:
            requirement = opt.get(key)
            if requirement is None:
                continue
            if not isinstance(requirement, Requirement):  # fail closed on a hand-written opt value
                raise TypeError(f"opt[{key!r}] must come from {key}(...), not {requirement!r}")
            found[requirement] = None
    return tuple(found)


def claims_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Claims:
    """The verified claims of the request; MissingCredentials if the route skipped authentication."""
    claims = connection.scope.get("user")
    if not isinstance(claims, Claims):
        raise MissingCredentials("this route needs an access token")
    return claims
