"""``GET /health``: the format and whether the stores answer; 503 when one does not.

During a migration ``accepted`` lists each format still accepted with the tokens of it this process has
verified (``access``, ``refresh``, ``last_seen``): when ``last_seen`` stops moving on every process, the
old format has drained (docs/migration.md). Outside a migration it is ``{}``.

``GET /health/live`` is liveness only: it answers while the process serves requests and asks no store,
so a database outage never gets a healthy process restarted (and the benchmarks use it as the open
route whose cost is subtracted from ``GET /me``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Final

import msgspec
from litestar import Response, get

from service.auth.middleware import EXCLUDE_FROM_AUTH
from service.services import Services, ServicesDep
from service.stores import StoreUnavailable

__all__ = ["AcceptedFormat", "Health", "health", "live", "route_handlers"]

PING_TIMEOUT: Final = 3.0


class AcceptedFormat(msgspec.Struct, frozen=True):
    """Tokens of one accepted format verified by the process that answers (counted since it started)."""

    access: int
    refresh: int
    last_seen: str | None


class Health(msgspec.Struct, frozen=True):
    """``database`` and ``sessions`` are ``ok`` or ``unavailable``; ``backends`` names them.

    ``format`` is the format issued; ``accepted`` the formats still accepted, with their counters.
    """

    status: str
    format: str
    database: str
    sessions: str
    backends: dict[str, str]
    accepted: dict[str, AcceptedFormat]


def _accepted(services: Services) -> dict[str, AcceptedFormat]:
    return {
        name.value: AcceptedFormat(
            access=seen.access,
            refresh=seen.refresh,
            last_seen=None if seen.last is None else seen.last.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        for name, seen in services.window.seen().items()
    }


async def _state(ping: Callable[[], Awaitable[None]]) -> str:
    try:
        await asyncio.wait_for(ping(), PING_TIMEOUT)
    except (StoreUnavailable, TimeoutError):
        return "unavailable"
    return "ok"


@get("/health", opt={EXCLUDE_FROM_AUTH: True}, summary="Liveness and store reachability")
async def health(services: ServicesDep) -> Response[Health]:
    """200 when every store answers, else 503 with the one that does not."""
    stores = services.stores
    database, sessions = await asyncio.gather(_state(stores.users.ping), _state(stores.sessions.ping))
    ok = database == "ok" and sessions == "ok"
    body = Health(
        status="ok" if ok else "unavailable",
        format=services.fmt.name.value,
        database=database,
        sessions=sessions,
        backends={"database": stores.database, "sessions": stores.sessions_backend},
        accepted=_accepted(services),
    )
    return Response(body, status_code=200 if ok else 503, headers={"Cache-Control": "no-store"})


@get("/health/live", opt={EXCLUDE_FROM_AUTH: True}, summary="Liveness: the process answers (no store asked)")
async def live() -> dict[str, str]:
    """200 as long as the process serves requests."""
    return {"status": "ok"}


route_handlers: Final = [health, live]
