"""One store suite over every backend: users on SQLite and PostgreSQL (fixture ``sql``); refresh sessions and
rate limits on SQLite, PostgreSQL and Redis (fixture ``stores``). Same assertions for each; the backends
must be indistinguishable. The tests are coroutines (``pytest.mark.anyio``) on the fixtures' event loop.

PostgreSQL and Redis are skipped only when unreachable *and* ``CI`` is unset (the skip message says how to
start them); under ``CI`` an unreachable server fails the suite.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from service.stores import (
    ActorNotAdmin,
    Hit,
    LastAdmin,
    RateLimited,
    RateLimiter,
    SessionGenerationChanged,
    SessionReused,
    SessionRevoked,
    SessionStore,
    StoreUnavailable,
    UserExists,
    UserNamesCollide,
    UserNotFound,
)
from service.stores.base import Window
from service.stores.redis import RedisRateLimiter, RedisSessionStore
from service.stores.sql import (
    SqlRateLimiter,
    SqlSessionStore,
    SqlUserStore,
    create_engine,
    create_schema,
    login_windows,
    metadata,
    purge_statement,
    session_generations,
    session_purge_statement,
    sessions,
)
from service.stores.sql import users as users_table

NOW = 1_800_000_000.0
DAY = 86400.0


@dataclass(frozen=True)
class BackendStores:
    """What every backend holds: refresh sessions and rate limits."""

    name: str
    sessions: SessionStore
    limiter: RateLimiter


@dataclass(frozen=True)
class SqlStores(BackendStores):
    """A SQL backend also holds the users, and its engine is there for the schema tests."""

    users: SqlUserStore
    engine: AsyncEngine


@asynccontextmanager
async def open_sql(name: str, url: str) -> AsyncIterator[SqlStores]:
    engine = create_engine(url)
    try:
        await create_schema(engine)
        async with engine.begin() as conn:
            for table in reversed(metadata.sorted_tables):
                await conn.execute(table.delete())
        yield SqlStores(
            name=name,
            sessions=SqlSessionStore(engine),
            limiter=SqlRateLimiter(engine),
            users=SqlUserStore(engine),
            engine=engine,
        )
    finally:
        await engine.dispose()


@asynccontextmanager
async def open_redis(url: str) -> AsyncIterator[BackendStores]:
    client = Redis.from_url(url)
    prefix = f"tokenbench-test:{secrets.token_hex(6)}:"
    try:
        yield BackendStores(
            name="redis",
            sessions=RedisSessionStore(client, prefix=prefix),
            limiter=RedisRateLimiter(client, prefix=prefix),
        )
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """(backend, URL); resolved before any event loop runs (the PostgreSQL fixture runs one of its own)."""
    name = str(request.param)
    if name == "sqlite":
        return name, f"sqlite+aiosqlite:///{tmp_path / 'stores.db'}"
    if name == "postgresql":
        return name, str(request.getfixturevalue("postgres_database"))
    return name, str(request.getfixturevalue("redis_url"))


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    return backend_url(request, tmp_path)


@pytest.fixture(params=["sqlite", "postgresql", "redis"])
def any_url(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    return backend_url(request, tmp_path)


@pytest.fixture
async def sql(sql_url: tuple[str, str], anyio_backend: str) -> AsyncIterator[SqlStores]:
    """Users, sessions and rate limits on SQLite and on PostgreSQL, each test on empty tables."""
    async with open_sql(*sql_url) as stores:
        yield stores


@pytest.fixture
async def stores(any_url: tuple[str, str], anyio_backend: str) -> AsyncIterator[BackendStores]:
    """Sessions and rate limits on SQLite, PostgreSQL and Redis, each test on an empty key space."""
    name, url = any_url
    opened = open_redis(url) if name == "redis" else open_sql(name, url)
    async with opened as backend:
        yield backend


# --- users -----------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_users_create_get_list_and_change(sql: SqlStores) -> None:
    users = sql.users
    created = await users.create("bob", role="user", password_hash="$argon2id$h1", now=NOW)
    await users.create("ann", role="admin", password_hash="$argon2id$h2", now=NOW)
    assert await users.get("bob") == created
    assert await users.get("nobody") is None
    assert [u.username for u in await users.list()] == ["ann", "bob"]
    assert (await users.set_role("bob", "admin")).role == "admin"
    await users.set_password_hash("bob", "$argon2id$h3")
    assert (await users.get("bob")).password_hash == "$argon2id$h3"
    await users.delete("bob")
    assert await users.get("bob") is None


@pytest.mark.anyio
async def test_users_refuse_duplicates_and_unknown_names(sql: SqlStores) -> None:
    users = sql.users
    await users.create("bob", role="user", password_hash="h", now=NOW)
    with pytest.raises(UserExists):
        await users.create("bob", role="admin", password_hash="h", now=NOW)
    with pytest.raises(UserNotFound):
        await users.set_role("nobody", "admin")
    with pytest.raises(UserNotFound):
        await users.set_password_hash("nobody", "h")
    with pytest.raises(UserNotFound):
        await users.delete("nobody")


# --- refresh sessions ------------------------------------------------------------------------------


async def started(sessions: Any, family: str = "fam-1", username: str = "bob", jti: str = "jti-0") -> None:
    await sessions.start(family, username=username, jti=jti, expires_at=NOW + DAY, now=NOW, generation=0)


def rotation(
    presented: str, successor: str, now: float = NOW, grace: int = 10, max_age: float = 30 * DAY
) -> dict[str, Any]:
    return {
        "presented_jti": presented,
        "successor_jti": successor,
        "sealed_successor": f"sealed-{successor}".encode(),
        "expires_at": now + DAY,
        "now": now,
        "grace": grace,
        "max_age": max_age,
    }


@pytest.mark.anyio
async def test_rotate_moves_the_family_forward(stores: BackendStores) -> None:
    sessions = stores.sessions
    await started(sessions)
    result = await sessions.rotate("fam-1", **rotation("jti-0", "jti-1", now=NOW + 5))
    assert result.winner
    assert result.expires_at == NOW + 5 + DAY
    record = await sessions.get("fam-1")
    assert (record.current_jti, record.previous_jti, record.ver) == ("jti-1", "jti-0", 1)
    assert record.rotated_at == NOW + 5
    assert record.expires_at == NOW + 5 + DAY
    assert record.revoked_at is None
    assert (await sessions.rotate("fam-1", **rotation("jti-1", "jti-2", now=NOW + 6))).winner


@pytest.mark.anyio
async def test_retry_within_grace_returns_the_stored_successor(stores: BackendStores) -> None:
    sessions = stores.sessions
    await started(sessions)
    await sessions.rotate("fam-1", **rotation("jti-0", "jti-1"))
    retry = await sessions.rotate("fam-1", **rotation("jti-0", "jti-other", now=NOW + 10))
    assert not retry.winner
    assert retry.sealed_successor == b"sealed-jti-1"
    assert (await sessions.get("fam-1")).current_jti == "jti-1"


@pytest.mark.anyio
async def test_reuse_after_grace_revokes_the_family(stores: BackendStores) -> None:
    sessions = stores.sessions
    await started(sessions)
    await sessions.rotate("fam-1", **rotation("jti-0", "jti-1"))
    with pytest.raises(SessionReused):
        await sessions.rotate("fam-1", **rotation("jti-0", "jti-x", now=NOW + 11))
    assert (await sessions.get("fam-1")).revoked_at == NOW + 11
    with pytest.raises(SessionRevoked):
        await sessions.rotate("fam-1", **rotation("jti-1", "jti-2", now=NOW + 12))


@pytest.mark.anyio
async def test_strict_grace_and_older_tokens_are_reuse(stores: BackendStores) -> None:
    sessions = stores.sessions
    await started(sessions, family="strict")
    await sessions.rotate("strict", **rotation("jti-0", "jti-1", grace=0))
    with pytest.raises(SessionReused):
        await sessions.rotate("strict", **rotation("jti-0", "jti-x", grace=0))

    await started(sessions, family="older", jti="a-0")
    await sessions.rotate("older", **rotation("a-0", "a-1"))
    await sessions.rotate("older", **rotation("a-1", "a-2"))
    with pytest.raises(SessionReused):
        await sessions.rotate("older", **rotation("a-0", "a-x"))


@pytest.mark.anyio
async def test_rotation_never_extends_a_family_past_its_max_age(stores: BackendStores) -> None:
    sessions = stores.sessions
    await started(sessions)  # started at NOW, expires at NOW + DAY
    limit = 1.5 * DAY
    first = await sessions.rotate("fam-1", **rotation("jti-0", "jti-1", now=NOW + 0.25 * DAY, max_age=limit))
    assert first.expires_at == NOW + 1.25 * DAY  # the successor's own expiry comes first
    capped = await sessions.rotate("fam-1", **rotation("jti-1", "jti-2", now=NOW + DAY, max_age=limit))
    assert capped.winner
    assert capped.expires_at == NOW + limit  # not NOW + 2 * DAY
    assert (await sessions.get("fam-1")).expires_at == NOW + limit
    retry = await sessions.rotate("fam-1", **rotation("jti-1", "jti-x", now=NOW + DAY + 1, max_age=limit))
    assert (retry.winner, retry.expires_at) == (False, NOW + limit)


@pytest.mark.anyio
async def test_a_family_past_its_max_age_is_refused_and_revoked(stores: BackendStores) -> None:
    sessions = stores.sessions
    await started(sessions)  # expires at NOW + DAY: a smaller max age (setting lowered) still counts
    with pytest.raises(SessionRevoked):
        await sessions.rotate("fam-1", **rotation("jti-0", "jti-1", now=NOW + 3600, max_age=3600))
    assert (await sessions.get("fam-1")).revoked_at == NOW + 3600
    with pytest.raises(SessionRevoked):  # and stays revoked when the setting is raised again
        await sessions.rotate("fam-1", **rotation("jti-0", "jti-1", now=NOW + 3601))


@pytest.mark.anyio
async def test_unknown_and_expired_families_are_revoked(stores: BackendStores) -> None:
    sessions = stores.sessions
    with pytest.raises(SessionRevoked):
        await sessions.rotate("nope", **rotation("jti-0", "jti-1"))
    await started(sessions)
    with pytest.raises(SessionRevoked):
        await sessions.rotate("fam-1", **rotation("jti-0", "jti-1", now=NOW + DAY))


@pytest.mark.anyio
async def test_twenty_concurrent_rotations_have_exactly_one_winner(stores: BackendStores) -> None:
    sessions = stores.sessions
    await started(sessions)
    results = await asyncio.gather(
        *(sessions.rotate("fam-1", **rotation("jti-0", f"jti-1-{i}")) for i in range(20))
    )
    winners = [r for r in results if r.winner]
    assert len(winners) == 1
    assert {r.sealed_successor for r in results} == {winners[0].sealed_successor}
    record = await sessions.get("fam-1")
    assert record.ver == 1
    assert winners[0].sealed_successor == f"sealed-{record.current_jti}".encode()


@pytest.mark.anyio
async def test_twenty_concurrent_rotations_without_grace_revoke_the_family(stores: BackendStores) -> None:
    sessions = stores.sessions
    await started(sessions)
    results = await asyncio.gather(
        *(sessions.rotate("fam-1", **rotation("jti-0", f"jti-1-{i}", grace=0)) for i in range(20)),
        return_exceptions=True,
    )
    assert sum(1 for r in results if not isinstance(r, Exception) and r.winner) == 1
    assert all(isinstance(r, SessionReused | SessionRevoked) for r in results if isinstance(r, Exception))
    assert (await sessions.get("fam-1")).revoked_at is not None


@pytest.mark.anyio
async def test_revoke_family_and_revoke_user(stores: BackendStores) -> None:
    sessions = stores.sessions
    await started(sessions, family="b-1", username="bob")
    await started(sessions, family="b-2", username="bob")
    await started(sessions, family="a-1", username="ann")
    assert await sessions.revoke_family("b-1", now=NOW)
    assert not await sessions.revoke_family("b-1", now=NOW)
    assert not await sessions.revoke_family("unknown", now=NOW)
    assert await sessions.revoke_user("bob", now=NOW) == 1
    assert await sessions.revoke_user("bob", now=NOW) == 0
    assert (await sessions.get("b-2")).revoked_at == NOW
    assert (await sessions.get("a-1")).revoked_at is None
    with pytest.raises(SessionRevoked):
        await sessions.rotate("b-2", **rotation("jti-0", "jti-1"))


@pytest.mark.anyio
async def test_revoke_user_reaches_families_extended_by_rotation(stores: BackendStores) -> None:
    sessions = stores.sessions
    await sessions.start("short", username="bob", jti="s-0", expires_at=NOW + 60, now=NOW, generation=0)
    await sessions.rotate("short", **rotation("s-0", "s-1", now=NOW + 30))
    assert await sessions.revoke_user("bob", now=NOW + 31) == 1


@pytest.mark.anyio
async def test_purge_forgets_expired_families_only(stores: BackendStores) -> None:
    sessions = stores.sessions
    await sessions.start("old", username="bob", jti="o-0", expires_at=NOW + 10, now=NOW, generation=0)
    await started(sessions, family="live")
    await sessions.purge(now=NOW + 20)
    if stores.name != "redis":  # Redis forgets by key expiry, on its own clock
        assert await sessions.get("old") is None
    assert await sessions.get("live") is not None


# --- rate limits -----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_rate_limiter_counts_per_key_and_window(stores: BackendStores) -> None:
    limiter = stores.limiter
    for i in range(3):
        assert await limiter.hit("alice|10.0.0.1", limit=3, period=60, now=NOW + i) == i + 1
    with pytest.raises(RateLimited) as excinfo:
        await limiter.hit("alice|10.0.0.1", limit=3, period=60, now=NOW + 20)
    assert excinfo.value.retry_after == 40
    await limiter.hit("alice|10.0.0.2", limit=3, period=60, now=NOW + 20)
    await limiter.hit("alice|10.0.0.1", limit=3, period=60, now=NOW + 60)


@pytest.mark.anyio
async def test_rate_limiter_has_no_lost_updates_under_concurrency(stores: BackendStores) -> None:
    limiter = stores.limiter
    results = await asyncio.gather(
        *(limiter.hit("k", limit=10, period=60, now=NOW) for _ in range(25)), return_exceptions=True
    )
    assert sorted(r for r in results if isinstance(r, int)) == list(range(1, 11))
    assert sum(1 for r in results if isinstance(r, RateLimited)) == 15


@pytest.mark.anyio
async def test_rate_limiter_refund_takes_one_attempt_back_within_the_window(stores: BackendStores) -> None:
    limiter = stores.limiter
    await limiter.refund([Window("never-hit", NOW, NOW + 60, 1)])  # nothing to take back: no error
    await limiter.hit_all([Hit("k", 2, 60)], now=NOW)
    (window,) = await limiter.hit_all([Hit("k", 2, 60)], now=NOW)
    await limiter.refund([window])
    await limiter.hit("k", limit=2, period=60, now=NOW + 2)  # 2 again: still allowed
    with pytest.raises(RateLimited):
        await limiter.hit("k", limit=2, period=60, now=NOW + 3)
    (k2,) = await limiter.hit_all([Hit("k2", 1, 60)], now=NOW)
    for _ in range(5):  # never below zero
        await limiter.refund([k2])
    await limiter.hit("k2", limit=1, period=60, now=NOW)
    with pytest.raises(RateLimited):
        await limiter.hit("k2", limit=1, period=60, now=NOW)


@pytest.mark.anyio
async def test_rate_limiter_refund_never_reaches_the_next_window(stores: BackendStores) -> None:
    """A login counted just before its window ended succeeds after a new window began: the refund must
    not come off the new window (the window start recorded at the hit names the window)."""
    limiter = stores.limiter
    (counted,) = await limiter.hit_all([Hit("k", 2, 60)], now=NOW + 59.5)  # the argon2 check starts
    assert counted.count == 1
    (failed,) = await limiter.hit_all([Hit("k", 2, 60)], now=NOW + 59.5 + 60)  # a new window, 1 failure
    assert failed.start == NOW + 59.5 + 60
    await limiter.refund([counted])  # ... and the first check succeeds only now
    assert await limiter.hit("k", limit=2, period=60, now=NOW + 59.5 + 61) == 2
    with pytest.raises(RateLimited):
        await limiter.hit("k", limit=2, period=60, now=NOW + 59.5 + 62)


@pytest.mark.anyio
async def test_rate_limiter_counts_every_counter_in_one_step_and_names_those_past_their_limit(
    stores: BackendStores,
) -> None:
    limiter = stores.limiter
    hits = [Hit("address", 2, 60), Hit("account", 5, 3600), Hit("pair", 1, 60)]
    first = await limiter.hit_all(hits, now=NOW)
    assert [(w.key, w.count, w.start, w.end) for w in first] == [
        ("address", 1, NOW, NOW + 60),
        ("account", 1, NOW, NOW + 3600),
        ("pair", 1, NOW, NOW + 60),
    ]
    with pytest.raises(RateLimited) as excinfo:
        await limiter.hit_all(hits, now=NOW + 10)
    assert excinfo.value.keys == ("pair",)
    assert excinfo.value.retry_after == 50
    with pytest.raises(RateLimited) as excinfo:
        await limiter.hit_all(hits, now=NOW + 20)
    assert excinfo.value.keys == ("address", "pair")
    assert excinfo.value.retry_after == 40
    assert await limiter.hit("account", limit=5, period=3600, now=NOW + 30) == 4  # every step counted
    await limiter.refund(first[:2])
    assert await limiter.hit("account", limit=5, period=3600, now=NOW + 50) == 4


@pytest.mark.anyio
async def test_sql_rate_limiter_keeps_only_running_windows_under_a_flood_of_new_keys(sql: SqlStores) -> None:
    """Every flood key gets a row; once its window ends, the next hits delete it (the table stays bounded)."""
    limiter = sql.limiter
    for second in range(5):
        for i in range(50):
            await limiter.hit(f"flood-{second}-{i}", limit=5, period=2, now=NOW + second)
    async with sql.engine.connect() as conn:
        rows = (await conn.execute(select(func.count()).select_from(login_windows))).scalar_one()
    assert rows <= 3 * 50  # the windows of the last two seconds, and those ending right now


@pytest.mark.parametrize(
    ("statement", "index"),
    [
        (purge_statement, "ix_tokenbench_login_windows_window_end"),
        (session_purge_statement, "ix_tokenbench_refresh_sessions_expires_at"),
    ],
    ids=["login windows", "refresh sessions"],
)
@pytest.mark.anyio
async def test_sql_purges_search_an_index(sql: SqlStores, statement: Any, index: str) -> None:
    engine = sql.engine
    compiled = str(statement(NOW).compile(engine, compile_kwargs={"literal_binds": True}))
    async with engine.connect() as conn:
        if sql.name == "sqlite":
            plan = " ".join(str(r[-1]) for r in await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))
            assert f"USING INDEX {index}" in plan, plan
        else:
            await conn.exec_driver_sql("SET enable_seqscan = off")
            plan = " ".join(str(r[0]) for r in await conn.exec_driver_sql(f"EXPLAIN {compiled}"))
            assert index in plan, plan


def test_a_database_of_an_earlier_version_gains_the_new_indexes_and_drops_the_old_counters(
    tmp_path: Path,
) -> None:
    """The sessions table existed without the expires_at index, the counters in tokenbench_login_attempts."""

    async def main() -> set[str]:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
        try:
            async with engine.begin() as conn:
                await conn.run_sync(sessions.create)
                await conn.exec_driver_sql("DROP INDEX ix_tokenbench_refresh_sessions_expires_at")
                await conn.exec_driver_sql("CREATE TABLE tokenbench_login_attempts (key TEXT PRIMARY KEY)")
            await create_schema(engine)
            await create_schema(engine)  # idempotent
            async with engine.connect() as conn:
                rows = await conn.exec_driver_sql("SELECT type, name FROM sqlite_master")
                return {f"{kind} {name}" for kind, name in rows}
        finally:
            await engine.dispose()

    schema = asyncio.run(main())
    assert "index ix_tokenbench_refresh_sessions_expires_at" in schema
    assert "index ix_tokenbench_login_windows_window_end" in schema
    assert "table tokenbench_login_attempts" not in schema


# --- outages ---------------------------------------------------------------------------------------


async def assert_unavailable(sessions: Any, limiter: Any) -> None:
    with pytest.raises(StoreUnavailable):
        await sessions.ping()
    with pytest.raises(StoreUnavailable):
        await sessions.start("f", username="u", jti="j", expires_at=NOW + 1, now=NOW, generation=0)
    with pytest.raises(StoreUnavailable):
        await sessions.rotate("f", **rotation("j", "k"))
    with pytest.raises(StoreUnavailable):
        await limiter.hit("k", limit=1, period=1, now=NOW)


@pytest.mark.anyio
async def test_an_unreachable_database_raises_store_unavailable() -> None:
    engine = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/test")
    try:
        await assert_unavailable(SqlSessionStore(engine), SqlRateLimiter(engine))
        with pytest.raises(StoreUnavailable):
            await SqlUserStore(engine).get("alice")
        with pytest.raises(StoreUnavailable):
            await create_schema(engine)
    finally:
        await engine.dispose()


@pytest.mark.anyio
async def test_an_unreachable_redis_raises_store_unavailable() -> None:
    client = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
    try:
        await assert_unavailable(RedisSessionStore(client), RedisRateLimiter(client))
    finally:
        await client.aclose()


# --- account rules inside the stores: last admin, the caller's current role, session generation -------


@pytest.mark.anyio
async def test_the_last_admin_can_be_neither_demoted_nor_deleted(sql: SqlStores) -> None:
    users = sql.users
    await users.create("ann", role="admin", password_hash="h", now=NOW)
    await users.create("bob", role="user", password_hash="h", now=NOW)
    with pytest.raises(LastAdmin):
        await users.set_role("ann", "user")
    with pytest.raises(LastAdmin):
        await users.delete("ann")
    assert (await users.set_role("ann", "admin")).role == "admin"  # not a demotion
    await users.delete("bob")  # not an admin
    await users.create("cid", role="admin", password_hash="h", now=NOW)
    assert (await users.set_role("ann", "user")).role == "user"
    with pytest.raises(LastAdmin):
        await users.delete("cid")


@pytest.mark.anyio
async def test_concurrent_demotions_of_two_admins_leave_one(sql: SqlStores) -> None:
    """PostgreSQL runs them on separate connections (read committed): the advisory lock serializes them."""
    users = sql.users
    await users.create("ann", role="admin", password_hash="h", now=NOW)
    await users.create("bob", role="admin", password_hash="h", now=NOW)
    for _ in range(15):
        outcomes = await asyncio.gather(
            users.set_role("ann", "user"), users.delete("bob"), return_exceptions=True
        )
        assert sum(isinstance(outcome, LastAdmin) for outcome in outcomes) == 1, outcomes
        admins = [user.username for user in await users.list() if user.role == "admin"]
        assert len(admins) == 1
        if await users.get("bob") is None:
            await users.create("bob", role="admin", password_hash="h", now=NOW)
        else:
            await users.set_role("ann", "admin")


@pytest.mark.anyio
async def test_an_admin_write_reads_the_callers_role_in_its_own_transaction(sql: SqlStores) -> None:
    users = sql.users
    await users.create("ann", role="admin", password_hash="h", now=NOW)
    await users.create("bob", role="admin", password_hash="h", now=NOW)
    await users.create("eve", role="admin", password_hash="h", now=NOW, actor="ann")
    await users.set_role("ann", "user", actor="bob")
    with pytest.raises(ActorNotAdmin):
        await users.create("mal", role="admin", password_hash="h", now=NOW, actor="ann")
    with pytest.raises(ActorNotAdmin):
        await users.set_role("ann", "admin", actor="ann")
    await users.delete("eve", actor="bob")
    with pytest.raises(ActorNotAdmin):
        await users.delete("bob", actor="eve")
    assert {user.username: user.role for user in await users.list()} == {"ann": "user", "bob": "admin"}


@pytest.mark.anyio
async def test_replace_password_hash_is_a_compare_and_set(sql: SqlStores) -> None:
    users = sql.users
    await users.create("bob", role="user", password_hash="old", now=NOW)
    await users.set_password_hash("bob", "reset")
    assert not await users.replace_password_hash("bob", old="old", new="rehashed-old")
    assert (await users.get("bob")).password_hash == "reset"
    assert await users.replace_password_hash("bob", old="reset", new="rehashed-reset")
    assert (await users.get("bob")).password_hash == "rehashed-reset"
    assert not await users.replace_password_hash("nobody", old="x", new="y")


@pytest.mark.anyio
async def test_revoke_user_bumps_the_generation_and_a_start_with_the_old_one_is_refused(
    stores: BackendStores,
) -> None:
    sessions = stores.sessions
    assert await sessions.generation("bob") == 0
    await started(sessions, family="b-1")
    await sessions.revoke_user("bob", now=NOW)
    assert await sessions.generation("bob") == 1
    assert await sessions.generation("ann") == 0
    with pytest.raises(SessionGenerationChanged):
        await started(sessions, family="b-2")
    assert await sessions.get("b-2") is None
    await sessions.start("b-3", username="bob", jti="j", expires_at=NOW + DAY, now=NOW, generation=1)
    assert (await sessions.get("b-3")).revoked_at is None


@pytest.mark.anyio
async def test_a_start_racing_a_revocation_never_outlives_it(stores: BackendStores) -> None:
    """Every start read generation 0; each either fails or its family is revoked by the concurrent bump."""
    sessions = stores.sessions
    for round_ in range(5):
        generation = await sessions.generation("bob")
        families = [f"r{round_}-{i}" for i in range(12)]
        starts = [
            sessions.start(f, username="bob", jti="j", expires_at=NOW + DAY, now=NOW, generation=generation)
            for f in families
        ]
        outcomes = await asyncio.gather(
            *starts[:6], sessions.revoke_user("bob", now=NOW), *starts[6:], return_exceptions=True
        )
        assert await sessions.generation("bob") == generation + 1
        for family, outcome in zip(families, outcomes[:6] + outcomes[7:], strict=True):
            if isinstance(outcome, BaseException):
                assert isinstance(outcome, SessionGenerationChanged), outcome
            else:
                assert (await sessions.get(family)).revoked_at is not None, family


@pytest.mark.anyio
async def test_a_database_of_the_previous_version_gains_the_generation_table(sql: SqlStores) -> None:
    """``create_schema`` on tables made by the version before session generations: nothing to migrate."""
    users, sessions = sql.users, sql.sessions
    engine = sessions._engine
    async with engine.begin() as conn:
        await conn.run_sync(session_generations.drop)
    await users.create("bob", role="user", password_hash="h", now=NOW)
    await create_schema(engine)
    assert await sessions.generation("bob") == 0
    await started(sessions, family="b-1")
    assert await sessions.revoke_user("bob", now=NOW) == 1


# --- user names are case-insensitive ----------------------------------------------------------------


@pytest.mark.anyio
async def test_a_case_variant_of_a_user_name_is_refused_by_the_database(sql: SqlStores) -> None:
    """Whatever path writes (the account rules lower names first), ``Alice`` beside ``alice`` is taken."""
    users = sql.users
    await users.create("alice", role="user", password_hash="h", now=NOW)
    with pytest.raises(UserExists):
        await users.create("Alice", role="admin", password_hash="h", now=NOW)
    assert [u.username for u in await users.list()] == ["alice"]


async def as_an_earlier_version(engine: Any, *names: str) -> None:
    """The users table as an earlier version left it: no ``lower(username)`` index, names as given."""
    async with engine.begin() as conn:
        await conn.execute(text("DROP INDEX IF EXISTS ux_tokenbench_users_username_lower"))
        for name in names:
            await conn.execute(
                users_table.insert().values(username=name, role="user", password_hash="h", created_at=NOW)
            )


@pytest.mark.anyio
async def test_an_earlier_databases_user_names_are_lowered_at_start_up(sql: SqlStores, caplog) -> None:
    users, engine = sql.users, sql.engine
    await as_an_earlier_version(engine, "Alice", "bob", "CAROL.Ops")
    await create_schema(engine)
    assert [u.username for u in await users.list()] == ["alice", "bob", "carol.ops"]
    with pytest.raises(UserExists):  # the index is there now
        await users.create("BOB", role="user", password_hash="h", now=NOW)
    await create_schema(engine)  # idempotent
    assert "renamed Alice, CAROL.Ops to lower case" in caplog.text


@pytest.mark.anyio
async def test_an_earlier_database_with_names_differing_only_in_case_refuses_to_start(
    sql: SqlStores,
) -> None:
    users, engine = sql.users, sql.engine
    await as_an_earlier_version(engine, "Alice", "alice", "ALICE", "Bob")
    with pytest.raises(UserNamesCollide) as refused:
        await create_schema(engine)
    message = str(refused.value)
    assert "\n" not in message
    assert "these users differ only in case: 'ALICE', 'Alice', 'alice';" in message
    assert "DELETE FROM tokenbench_users WHERE username = 'ALICE';" in message
    assert sorted(u.username for u in await users.list()) == ["ALICE", "Alice", "Bob", "alice"]  # as was
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM tokenbench_users WHERE username IN ('ALICE', 'Alice')"))
    await create_schema(engine)  # the operator kept one: it starts, and lowers the rest
    assert [u.username for u in await users.list()] == ["alice", "bob"]
