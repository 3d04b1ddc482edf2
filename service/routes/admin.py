"""``/admin/users``: list, create and re-role users. Role ``admin`` only (a requirement on the router).

The requirement reads the access token alone, so ``GET`` (a read) stays stateless. The writes (``POST``,
``PATCH``) go through :mod:`service.accounts` with the caller as ``actor``: the caller's *current* role is
read in the write's own transaction, so an admin demoted or deleted since the token was issued gets 403
``role_revoked`` at once, and the last admin cannot be demoted (409 ``last_admin``).

Changing a role revokes the user's refresh sessions: their next refresh fails and their next login
carries the new role. Access tokens already issued keep their old role until they expire (at most
``TOKENBENCH_ACCESS_TTL``) on the stateless routes: that is the price of stateless access tokens, see
``docs/service.md``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Final

import msgspec
from litestar import Request, Router, get, patch, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from service.accounts import USERNAME_PATTERN
from service.auth.guards import claims_of, requires_permission, requires_role
from service.auth.roles import Permission, Role
from service.passwords import MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS
from service.services import ServicesDep
from service.stores import UserRecord

__all__ = ["UserOut", "router"]

Username = Annotated[str, msgspec.Meta(pattern=USERNAME_PATTERN)]
Password = Annotated[str, msgspec.Meta(min_length=MIN_PASSWORD_CHARS, max_length=MAX_PASSWORD_CHARS)]


class NewUser(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``POST /admin/users`` body."""

    username: Username
    password: Password
    role: Role


class RoleChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``PATCH /admin/users/{username}`` body."""

    role: Role


class UserOut(msgspec.Struct, frozen=True):
    """A user as the API shows it: never the password hash."""

    username: str
    role: str
    created_at: datetime

    @classmethod
    def of(cls, record: UserRecord) -> UserOut:
        """The public view of a stored user."""
        return cls(
            username=record.username,
            role=record.role,
            created_at=datetime.fromtimestamp(record.created_at, UTC),
        )


@get("/users", opt=requires_permission(Permission.USERS_READ), summary="List users")
async def list_users(services: ServicesDep) -> list[UserOut]:
    """Every user with role and creation time."""
    return [UserOut.of(record) for record in await services.stores.users.list()]


@post(
    "/users",
    opt=requires_permission(Permission.USERS_WRITE),
    status_code=HTTP_201_CREATED,
    summary="Create a user",
)
async def create_user(
    request: Request[Any, Any, Any], data: JSONBody[NewUser], services: ServicesDep
) -> UserOut:
    """400 on a bad body, 409 if the name is taken, 403 if the caller is no longer an admin."""
    record = await services.accounts.create(
        data.username, role=data.role, password=data.password, actor=claims_of(request).sub
    )
    return UserOut.of(record)


@patch(
    "/users/{username:str}",
    opt=requires_permission(Permission.USERS_WRITE),
    summary="Change a user's role (revokes their refresh sessions)",
)
async def change_role(
    request: Request[Any, Any, Any],
    username: FromPath[str],
    data: JSONBody[RoleChange],
    services: ServicesDep,
) -> UserOut:
    """404 if unknown, 409 for the last admin, 403 if the caller is no longer an admin.

    Revokes every refresh session of the user, also when the role is unchanged: that is how a change
    whose revocation failed (503) is completed.
    """
    record, _ = await services.accounts.set_role(username, data.role, actor=claims_of(request).sub)
    return UserOut.of(record)


router: Final = Router(
    path="/admin",
    opt=requires_role(Role.ADMIN),
    security=[{"BearerToken": []}],
    route_handlers=[list_users, create_user, change_role],
)
