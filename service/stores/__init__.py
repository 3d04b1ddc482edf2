"""The service's stores, bundled: users in SQL; refresh sessions and rate limits in SQL or Redis.

:func:`open_stores` builds the bundle the settings describe; tests and tools may build their own
:class:`Stores` and hand it to :func:`service.app.create_app`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from service.private_files import SQLITE_SIDE_FILES, readable_by_others, refusal
from service.settings import Environment, Settings, SettingsError
from service.stores.base import (
    ADMIN_ROLE,
    ActorNotAdmin,
    Hit,
    LastAdmin,
    RateLimited,
    RateLimiter,
    Rotation,
    SessionGenerationChanged,
    SessionRecord,
    SessionReused,
    SessionRevoked,
    SessionStore,
    StoreError,
    StoreRejected,
    StoreUnavailable,
    UserExists,
    UserNamesCollide,
    UserNotFound,
    UserRecord,
    UserStore,
)
from service.stores.redis import RedisRateLimiter, RedisSessionStore, connect
from service.stores.sql import SqlRateLimiter, SqlSessionStore, SqlUserStore, create_engine, create_schema

__all__ = [
    "ADMIN_ROLE",
    "ActorNotAdmin",
    "Hit",
    "LastAdmin",
    "RateLimited",
    "RateLimiter",
    "Rotation",
    "SessionGenerationChanged",
    "SessionRecord",
    "SessionReused",
    "SessionRevoked",
    "SessionStore",
    "StoreError",
    "StoreRejected",
    "StoreUnavailable",
    "Stores",
    "UserExists",
    "UserNamesCollide",
    "UserNotFound",
    "UserRecord",
    "UserStore",
    "open_stores",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Stores:
    """Everything the service persists, and how to bring it up and down.

    ``database`` and ``sessions_backend`` name the backends for ``GET /health``; ``startup`` creates
    missing tables (idempotent); ``shutdown`` closes pools and clients.
    """

    users: UserStore
    sessions: SessionStore
    rate_limiter: RateLimiter
    database: str
    sessions_backend: str
    startup: Callable[[], Awaitable[None]]
    shutdown: Callable[[], Awaitable[None]]


def open_stores(settings: Settings) -> Stores:
    """The stores ``settings`` asks for. Nothing connects until the first use (or ``startup``).

    A SQLite database is created 0600; ``production`` refuses one that group or others can read.
    """
    engine = create_engine(settings.database_url.reveal())
    if settings.env is Environment.PRODUCTION and engine.dialect.name == "sqlite" and engine.url.database:
        database = Path(engine.url.database)
        exposed = readable_by_others([database, *(Path(f"{database}{side}") for side in SQLITE_SIDE_FILES)])
        if exposed:
            raise SettingsError("TOKENBENCH_DATABASE_URL", refusal(exposed, "the database is"))
    users = SqlUserStore(engine)

    async def create_tables() -> None:
        await create_schema(engine)

    if settings.redis_url is None:

        async def close_sql() -> None:
            await engine.dispose()

        return Stores(
            users=users,
            sessions=SqlSessionStore(engine),
            rate_limiter=SqlRateLimiter(engine),
            database=engine.dialect.name,
            sessions_backend=engine.dialect.name,
            startup=create_tables,
            shutdown=close_sql,
        )

    client = connect(settings.redis_url.reveal())
    sessions = RedisSessionStore(client)

    async def close_all() -> None:
        await engine.dispose()
        await client.aclose()

    return Stores(
        users=users,
        sessions=sessions,
        rate_limiter=RedisRateLimiter(client),
        database=engine.dialect.name,
        sessions_backend="redis",
        startup=create_tables,
        shutdown=close_all,
    )
