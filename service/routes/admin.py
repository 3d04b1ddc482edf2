"""``/admin/users``: list, create and re-role users. Role ``admin`` only (guard on the router).

Changing a role revokes the user's refresh sessions: their next refresh fails and their next login
carries the new role. Access tokens already issued keep their old role until they expire (at most
``TOKENBENCH_ACCESS_TTL``): that is the price of stateless access tokens, see ``docs/service.md``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Final

import msgspec
from litestar import Router, get, patch, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from service.auth.guards import requires_permission, requires_role
from service.auth.roles import Permission, Role
from service.errors import InvalidRequest
from service.passwords import MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS
from service.services import ServicesDep
from service.stores import UserRecord

__all__ = ["USERNAME_PATTERN", "UserOut", "Username", "router", "validate_username"]

USERNAME_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}(?![\s\S])"
"""1-64 characters, the first a letter or digit. It ends with "no character follows" rather than ``$``,
which also matches before a final newline (``"alice\n"`` passed): the lookahead means the end of the
string in Python (msgspec, :func:`validate_username`) and in the ECMAScript regex of the OpenAPI schema."""
_USERNAME: Final = re.compile(USERNAME_PATTERN)

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


def validate_username(username: str) -> str:
    """The name itself if usable, else InvalidRequest (the CLI uses the same rule).

    Every name that enters (a login body, a path, the CLI) is checked with this one rule before any store
    sees it, so a NUL byte, a control character or an overlong name is a 400 here, not a database error.
    """
    if _USERNAME.match(username) is None:
        raise InvalidRequest("user name must be 1-64 of A-Z a-z 0-9 _ . @ - and start with a letter or digit")
    return username


@get("/users", guards=[requires_permission(Permission.USERS_READ)], summary="List users")
async def list_users(services: ServicesDep) -> list[UserOut]:
    """Every user with role and creation time."""
    return [UserOut.of(record) for record in await services.stores.users.list()]


@post(
    "/users",
    guards=[requires_permission(Permission.USERS_WRITE)],
    status_code=HTTP_201_CREATED,
    summary="Create a user",
)
async def create_user(data: JSONBody[NewUser], services: ServicesDep) -> UserOut:
    """400 on a bad body, 409 if the name is taken."""
    password_hash = await services.hasher.hash(data.password)
    record = await services.stores.users.create(
        data.username,
        role=data.role.value,
        password_hash=password_hash,
        now=services.clock().timestamp(),
    )
    return UserOut.of(record)


@patch(
    "/users/{username:str}",
    guards=[requires_permission(Permission.USERS_WRITE)],
    summary="Change a user's role (revokes their refresh sessions)",
)
async def change_role(username: FromPath[str], data: JSONBody[RoleChange], services: ServicesDep) -> UserOut:
    """404 if unknown. A real change revokes every refresh session of the user."""
    validate_username(username)  # a name from the path, like any other: a NUL byte is 400, not a store error
    before = await services.stores.users.get(username)
    record = await services.stores.users.set_role(username, data.role.value)
    if before is None or before.role != record.role:
        await services.sessions.logout_all(username)
    return UserOut.of(record)


router: Final = Router(
    path="/admin",
    guards=[requires_role(Role.ADMIN)],
    security=[{"BearerToken": []}],
    route_handlers=[list_users, create_user, change_role],
)
