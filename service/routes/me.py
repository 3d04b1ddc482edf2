"""``GET /me``: who the access token says the caller is. Answered from the verified claims alone."""

from __future__ import annotations

from typing import Any, Final

import msgspec
from litestar import Request, get

from service.auth.guards import claims_of, requires_permission
from service.auth.roles import Permission

__all__ = ["Me", "me", "route_handlers"]


class Me(msgspec.Struct, frozen=True):
    """The caller, as the access token describes them (``sub`` is the user name)."""

    sub: str
    username: str
    role: str
    permissions: tuple[str, ...]


@get(
    "/me",
    opt=requires_permission(Permission.PROFILE_READ),
    security=[{"BearerToken": []}],
    summary="The caller's identity, role and permissions",
)
async def me(request: Request[Any, Any, Any]) -> Me:
    """No store look-up: an outage of the database or Redis does not block this route."""
    claims = claims_of(request)
    return Me(sub=claims.sub, username=claims.sub, role=claims.role, permissions=claims.perms)


route_handlers: Final = [me]
