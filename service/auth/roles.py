"""Roles and what each may do: the one place that maps a role to its permissions.

Access tokens carry the role and its permissions (``perms``) as issued; guards read them from the
verified claims, so authorization needs no store look-up. Changing this map takes effect for new tokens;
changing a user's role revokes that user's refresh sessions so the next login carries the new role.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

__all__ = ["ROLE_PERMISSIONS", "Permission", "Role", "permissions_of"]


class Role(enum.StrEnum):
    """The roles a user can have."""

    ADMIN = "admin"
    USER = "user"


class Permission(enum.StrEnum):
    """What a route may require."""

    PROFILE_READ = "profile:read"
    SESSIONS_REVOKE = "sessions:revoke"
    USERS_READ = "users:read"
    USERS_WRITE = "users:write"


_USER: Final = (Permission.PROFILE_READ, Permission.SESSIONS_REVOKE)

ROLE_PERMISSIONS: Final[Mapping[Role, tuple[Permission, ...]]] = MappingProxyType(
    {
        Role.USER: _USER,
        Role.ADMIN: (*_USER, Permission.USERS_READ, Permission.USERS_WRITE),
    }
)


def permissions_of(role: Role) -> tuple[str, ...]:
    """The permission strings a token for ``role`` carries."""
    return tuple(p.value for p in ROLE_PERMISSIONS[role])
