"""``GET /health``: the format and whether the stores answer; 503 when one does not.

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
from service.services import ServicesDep
from service.stores import StoreUnavailable

__all__ = ["Health", "health", "live", "route_handlers"]

PING_TIMEOUT: Final = 3.0


class Health(msgspec.Struct, frozen=True):
    """``database`` and ``sessions`` are ``ok`` or ``unavailable``; ``backends`` names them."""

    status: str
    format: str
    database: str
    sessions: str
    backends: dict[str, str]


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
    )
    return Response(body, status_code=200 if ok else 503, headers={"Cache-Control": "no-store"})


@get("/health/live", opt={EXCLUDE_FROM_AUTH: True}, summary="Liveness: the process answers (no store asked)")
async def live() -> dict[str, str]:
    """200 as long as the process serves requests."""
    return {"status": "ok"}


route_handlers: Final = [health, live]
