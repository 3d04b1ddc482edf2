"""SQLite: a process's transactions queue in the connection pool, never side by side inside SQLite.

Every SQLite transaction here is a writer (``BEGIN IMMEDIATE``), so with several pooled connections the
waiting writers poll SQLite's busy handler (sleeps of up to 100 ms): refresh p99 reached seconds under 32
concurrent chains (``python -m benchmarks.refresh_stores``; speed itself is measured there, not here).
One connection per process makes them queue in the asyncio pool instead, in order; 32 concurrent
rotations must all still complete and win.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from service.settings import Argon2Params, Secret, Settings
from service.stores import open_stores


def test_sqlite_uses_one_connection_and_concurrent_rotations_all_complete(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'contention.db'}"
    settings = Settings(database_url=Secret(url), argon2=Argon2Params(time_cost=1, memory_cost=8))

    async def body() -> None:
        stores = open_stores(settings)
        await stores.startup()
        try:
            pool = stores.sessions._engine.pool  # the pool the store's transactions queue in
            assert (pool.size(), pool._max_overflow) == (1, 0)  # one connection, no overflow
            now = 1_000.0
            for i in range(32):
                await stores.sessions.start(
                    f"family-{i}",
                    username="alice",
                    jti=f"jti-{i}-0",
                    expires_at=now + 600,
                    now=now,
                    generation=0,
                )
            results = await asyncio.gather(
                *(
                    stores.sessions.rotate(
                        f"family-{i}",
                        presented_jti=f"jti-{i}-0",
                        successor_jti=f"jti-{i}-1",
                        sealed_successor=b"sealed",
                        expires_at=now + 600,
                        now=now + 1,
                        grace=10,
                        max_age=30 * 86400,
                    )
                    for i in range(32)
                )
            )
            assert all(r.winner for r in results)
        finally:
            await stores.shutdown()

    asyncio.run(body())
