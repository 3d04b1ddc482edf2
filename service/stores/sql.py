"""SQL backend (SQLAlchemy Core, async): SQLite through aiosqlite by default, PostgreSQL through asyncpg.

The same statements run on both. Notes per dialect:

* SQLite runs in WAL mode with a busy timeout, and every transaction starts with ``BEGIN IMMEDIATE`` so
  a writer waits for the lock instead of failing with ``SQLITE_BUSY`` when its snapshot went stale. A
  process holds **one** SQLite connection: its transactions queue in the (asyncio) pool, in order, instead
  of in SQLite's busy handler, which polls with sleeps of up to 100 ms and, with 8 pooled connections,
  made refresh p99 grow to seconds at 32 concurrent chains (``python -m benchmarks.refresh_stores``).
  Other processes on the same file still wait in the busy handler.
* PostgreSQL's ``UPDATE ... WHERE current_jti = :presented`` takes the row lock; a concurrent updater
  re-evaluates the condition after the winner commits and updates nothing, which is the compare-and-set.

Every driver error is translated in :func:`_translate`, the one place that knows SQLAlchemy's exception
classes: a value the database refuses as data (SQLSTATE class 22, e.g. a NUL byte or a name too long
for its column on PostgreSQL; a lone surrogate that no driver can encode) to :class:`StoreRejected`,
anything else to :class:`StoreUnavailable` (or a domain error).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Final

from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    case,
    delete,
    event,
    exists,
    func,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection as SyncConnection
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from service.private_files import create_owner_only
from service.stores.base import (
    ADMIN_ROLE,
    ActorNotAdmin,
    Hit,
    LastAdmin,
    Rotation,
    SessionGenerationChanged,
    SessionRecord,
    SessionReused,
    SessionRevoked,
    StoreError,
    StoreRejected,
    StoreUnavailable,
    UserExists,
    UserNamesCollide,
    UserNotFound,
    UserRecord,
    Window,
    refuse_past_limits,
)

__all__ = [
    "SqlRateLimiter",
    "SqlSessionStore",
    "SqlUserStore",
    "create_engine",
    "create_schema",
    "metadata",
    "session_generations",
]

logger = logging.getLogger("tokenbench")

metadata: Final = MetaData()

users: Final = Table(
    "tokenbench_users",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("role", String(32), nullable=False),
    Column("password_hash", String(256), nullable=False),
    Column("created_at", Float, nullable=False),
)
"""User names are stored in lower case (``service.accounts.canonical_username``); the unique index on
``lower(username)`` (:data:`USERS_LOWER_INDEX`) keeps a case variant out whatever path writes, and
:func:`create_schema` lowers the names of a database made by an earlier version (or refuses, naming them,
where two would collide)."""

USERS_LOWER_INDEX: Final = text(
    "CREATE UNIQUE INDEX IF NOT EXISTS ux_tokenbench_users_username_lower "
    "ON tokenbench_users (lower(username))"
)
"""Plain DDL, the same on SQLite and PostgreSQL: SQLAlchemy cannot reflect an expression index on SQLite
(it warns), so ``checkfirst`` is left to ``IF NOT EXISTS``."""

sessions: Final = Table(
    "tokenbench_refresh_sessions",
    metadata,
    Column("family", String(64), primary_key=True),
    Column("username", String(64), nullable=False),
    Column("current_jti", String(64), nullable=False),
    Column("ver", Integer, nullable=False),
    Column("previous_jti", String(64), nullable=True),
    Column("successor_sealed", LargeBinary, nullable=True),
    Column("rotated_at", Float, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("revoked_at", Float, nullable=True),
    Column("revoke_reason", String(32), nullable=True),
    Index("ix_tokenbench_refresh_sessions_username", "username"),
    Index("ix_tokenbench_refresh_sessions_expires_at", "expires_at"),
)

session_generations: Final = Table(
    "tokenbench_session_generations",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("generation", Integer, nullable=False),
)
"""One row per user whose sessions were ever revoked or started: see :meth:`SqlSessionStore.start`.

A table of its own (not a column of ``tokenbench_users``): ``create_schema`` adds it to a database made
by an earlier version without touching the tables already there, and it sits next to the sessions, which
is where the check and the bump must be atomic.
"""

ADMIN_WRITE_LOCK: Final = 0x746F6B656E62  # "tokenb": the PostgreSQL advisory lock of admin writes

login_windows: Final = Table(
    "tokenbench_login_windows",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("window_start", Float, nullable=False),
    Column("window_end", Float, nullable=False),
    Column("count", Integer, nullable=False),
    Index("ix_tokenbench_login_windows_window_end", "window_end"),
)
"""Login attempt counters, one row per key and running window. Ended windows are deleted through the
``window_end`` index, so the table holds the windows still running, however many keys a flood invents."""

_RETIRED_TABLES: Final = ("tokenbench_login_attempts",)
"""Tables of earlier versions that :func:`create_schema` drops (counters only: losing them resets limits)."""

PURGE_INTERVAL: Final = 1.0
"""Seconds between two purges of ended windows by one limiter (each purge is one indexed range delete)."""

SQLITE_BUSY_TIMEOUT_MS: Final = 10_000
SQLITE_CONNECTIONS: Final = 1
"""Every transaction is a writer (``BEGIN IMMEDIATE``), so more connections only add lock polling."""


def create_engine(url: str) -> AsyncEngine:
    """An async engine for ``url`` (already validated by the settings), tuned per dialect."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            create_owner_only(Path(parsed.database))  # before SQLite creates it 0644 (its -wal/-shm follow)
        engine = create_async_engine(url, pool_size=SQLITE_CONNECTIONS, max_overflow=0, pool_timeout=30)
        event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
        event.listen(engine.sync_engine, "begin", _sqlite_on_begin)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True, pool_timeout=10)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (see _sqlite_on_begin)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_on_begin(conn: SyncConnection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


async def create_schema(engine: AsyncEngine) -> None:
    """Create the tables and indexes that do not exist yet and drop retired tables (idempotent).

    ``create_all`` skips a table that exists, indexes included, so an index added to an existing table
    (the sessions' ``expires_at``, which the purge searches; the users' ``lower(username)``) is created
    here on its own, after the user names of an earlier version are lowered (:func:`_lower_user_names`).
    """
    async with _translate(), engine.begin() as conn:
        for name in _RETIRED_TABLES:
            await conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
        await conn.run_sync(metadata.create_all)
        await conn.run_sync(_create_missing_indexes)
        await _lower_user_names(conn)
        await conn.execute(USERS_LOWER_INDEX)


def _create_missing_indexes(conn: SyncConnection) -> None:
    for index in sessions.indexes:
        index.create(conn, checkfirst=True)


async def _lower_user_names(conn: AsyncConnection) -> None:
    """Store every user name in lower case; :class:`UserNamesCollide` where two names differ only in case.

    An earlier version kept names as given. A renamed user logs in with the same password under either
    spelling; the refresh sessions it had end (their tokens name the old spelling, no longer a user).
    """
    mixed = (
        await conn.execute(select(users.c.username).where(users.c.username != func.lower(users.c.username)))
    ).scalars()
    renamed = sorted(mixed)
    if not renamed:
        return
    lowered = func.lower(users.c.username)
    clashing = (
        await conn.execute(
            select(users.c.username).where(
                lowered.in_(select(lowered).group_by(lowered).having(func.count() > 1).scalar_subquery())
            )
        )
    ).scalars()
    names = sorted(clashing, key=lambda name: (name.lower(), name))
    if names:
        keep = ", ".join(repr(name) for name in names)
        example = repr(names[0]).strip("'\"").replace("'", "''")  # shown to the operator, never run here
        statement = f"DELETE FROM tokenbench_users WHERE username = '{example}';"  # noqa: S608
        raise UserNamesCollide(
            f"user names are case-insensitive, and these users differ only in case: {keep}; keep one of "
            f"each and delete the others (e.g. {statement}), then start again"
        )
    await conn.execute(update(users).where(users.c.username != lowered).values(username=lowered))
    logger.warning(
        "user names are case-insensitive now: renamed %s to lower case (same passwords; their refresh "
        "sessions end)",
        ", ".join(renamed),
    )


DATA_EXCEPTION_CLASS: Final = "22"
"""SQLSTATE class "data exception": the statement was fine, a value in it was not."""


@asynccontextmanager
async def _translate() -> AsyncIterator[None]:
    """Data errors become :class:`StoreRejected`, driver and pool errors :class:`StoreUnavailable`."""
    try:
        yield
    except IntegrityError:
        raise
    except (DataError, UnicodeError) as exc:
        raise StoreRejected(f"the database refused a value: {type(exc).__name__}") from exc
    except DBAPIError as exc:
        sqlstate = str(getattr(exc.orig, "sqlstate", "") or "")
        if sqlstate.startswith(DATA_EXCEPTION_CLASS):
            raise StoreRejected(f"the database refused a value: SQLSTATE {sqlstate}") from exc
        raise StoreUnavailable(f"database unavailable: {type(exc).__name__}") from exc
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        raise StoreUnavailable(f"database unavailable: {type(exc).__name__}") from exc


class _SqlStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._insert: Callable[..., Any] = (
            sqlite_insert if engine.dialect.name == "sqlite" else postgresql_insert
        )

    @asynccontextmanager
    async def _begin(self) -> AsyncIterator[AsyncConnection]:
        async with _translate(), self._engine.begin() as conn:
            yield conn

    async def ping(self) -> None:
        """Raise :class:`StoreUnavailable` unless the database answers ``SELECT 1``."""
        async with _translate(), self._engine.connect() as conn:
            await conn.execute(text("SELECT 1"))


class SqlUserStore(_SqlStore):
    """Users in the ``tokenbench_users`` table."""

    async def get(self, username: str) -> UserRecord | None:
        """The user, or None."""
        async with self._begin() as conn:
            row = (await conn.execute(select(users).where(users.c.username == username))).first()
        return None if row is None else _user(row)

    async def create(
        self, username: str, *, role: str, password_hash: str, now: float, actor: str | None = None
    ) -> UserRecord:
        """Add a user; raises :class:`UserExists` or :class:`ActorNotAdmin`."""
        try:
            async with self._admin_write(actor) as conn:
                await conn.execute(
                    users.insert().values(
                        username=username, role=role, password_hash=password_hash, created_at=now
                    )
                )
        except IntegrityError as exc:
            raise UserExists(username) from exc
        return UserRecord(username=username, role=role, password_hash=password_hash, created_at=now)

    async def list(self) -> list[UserRecord]:
        """Every user, by name."""
        async with self._begin() as conn:
            rows = (await conn.execute(select(users).order_by(users.c.username))).all()
        return [_user(row) for row in rows]

    async def set_role(self, username: str, role: str, *, actor: str | None = None) -> UserRecord:
        """Change a user's role; see :meth:`service.stores.base.UserStore.set_role`."""
        async with self._admin_write(actor) as conn:
            if role != ADMIN_ROLE:
                await _keep_an_admin(conn, username)
            row = (
                await conn.execute(
                    update(users).where(users.c.username == username).values(role=role).returning(*users.c)
                )
            ).first()
        if row is None:
            raise UserNotFound(username)
        return _user(row)

    async def set_password_hash(self, username: str, password_hash: str) -> None:
        """Replace a user's hash; raises :class:`UserNotFound`."""
        async with self._begin() as conn:
            result = await conn.execute(
                update(users).where(users.c.username == username).values(password_hash=password_hash)
            )
        if result.rowcount != 1:
            raise UserNotFound(username)

    async def replace_password_hash(self, username: str, *, old: str, new: str) -> bool:
        """One ``UPDATE ... WHERE password_hash = :old``: a changed password is never overwritten."""
        async with self._begin() as conn:
            result = await conn.execute(
                update(users)
                .where(users.c.username == username, users.c.password_hash == old)
                .values(password_hash=new)
            )
        return bool(result.rowcount == 1)

    async def delete(self, username: str, *, actor: str | None = None) -> None:
        """Remove a user; raises :class:`UserNotFound`, :class:`ActorNotAdmin` or :class:`LastAdmin`."""
        async with self._admin_write(actor) as conn:
            await _keep_an_admin(conn, username)
            result = await conn.execute(delete(users).where(users.c.username == username))
        if result.rowcount != 1:
            raise UserNotFound(username)

    @asynccontextmanager
    async def _admin_write(self, actor: str | None) -> AsyncIterator[AsyncConnection]:
        """A transaction that may change who the admins are, serialized with every other such write.

        SQLite's ``BEGIN IMMEDIATE`` already serializes writers; PostgreSQL (read committed) takes a
        transaction-scoped advisory lock, so the admin count read below is still true at commit. The
        caller's role is read inside it: a demoted or deleted admin's writes stop at once.
        """
        async with self._begin() as conn:
            if self._engine.dialect.name == "postgresql":
                await conn.execute(select(func.pg_advisory_xact_lock(ADMIN_WRITE_LOCK)))
            if actor is not None:
                role = (
                    await conn.execute(select(users.c.role).where(users.c.username == actor))
                ).scalar_one_or_none()
                if role != ADMIN_ROLE:
                    raise ActorNotAdmin(actor)
            yield conn


async def _keep_an_admin(conn: AsyncConnection, username: str) -> None:
    """Raise :class:`LastAdmin` if ``username`` is an admin and no other user is."""
    admins = (
        await conn.execute(select(users.c.username).where(users.c.role == ADMIN_ROLE).limit(2))
    ).scalars()
    if list(admins) == [username]:
        raise LastAdmin(username)


class SqlSessionStore(_SqlStore):
    """Refresh-token families in the ``tokenbench_refresh_sessions`` table, beside the users."""

    checks_users = True

    async def generation(self, username: str) -> int:
        """The user's session generation (0 if never revoked)."""
        async with self._begin() as conn:
            found = (
                await conn.execute(
                    select(session_generations.c.generation).where(session_generations.c.username == username)
                )
            ).scalar_one_or_none()
        return int(found or 0)

    async def start(
        self, family: str, *, username: str, jti: str, expires_at: float, now: float, generation: int
    ) -> None:
        """Record a new family if the user's generation is still ``generation``, in one transaction.

        The generation row is locked first (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's writers
        are serialized anyway), so a concurrent :meth:`revoke_user` either bumps it before (this start is
        refused) or after this family is committed (and then revokes it).
        """
        async with self._begin() as conn:
            await conn.execute(
                self._insert(session_generations)
                .values(username=username, generation=0)
                .on_conflict_do_nothing(index_elements=[session_generations.c.username])
            )
            current = (
                await conn.execute(
                    select(session_generations.c.generation)
                    .where(session_generations.c.username == username)
                    .with_for_update()
                )
            ).scalar_one()
            if current != generation:
                raise SessionGenerationChanged(username)
            await conn.execute(
                sessions.insert().values(
                    family=family,
                    username=username,
                    current_jti=jti,
                    ver=0,
                    created_at=now,
                    expires_at=expires_at,
                )
            )

    async def rotate(
        self,
        family: str,
        *,
        presented_jti: str,
        successor_jti: str,
        sealed_successor: bytes,
        expires_at: float,
        now: float,
        grace: int,
        max_age: float,
        read_role: bool = False,
    ) -> Rotation:
        """One compare-and-set ``UPDATE``; see :meth:`service.stores.base.SessionStore.rotate`.

        One transaction whatever the outcome: the winner's ``UPDATE`` (which, with ``read_role``, also
        requires the user and returns its role), else one read of the family with its user, and the
        revocation if any.
        """
        deadline = sessions.c.created_at + max_age
        conditions = [
            sessions.c.family == family,
            sessions.c.current_jti == presented_jti,
            sessions.c.revoked_at.is_(None),
            sessions.c.expires_at > now,
            deadline > now,
        ]
        owner = users.c.username == sessions.c.username
        returned: list[Any] = [sessions.c.expires_at]
        if read_role:
            conditions.append(exists().where(owner))
            returned.append(_OWNER_ROLE)
        async with self._begin() as conn:
            won = (
                await conn.execute(
                    update(sessions)
                    .where(*conditions)
                    .values(
                        previous_jti=presented_jti,
                        current_jti=successor_jti,
                        ver=sessions.c.ver + 1,
                        successor_sealed=sealed_successor,
                        rotated_at=now,
                        expires_at=_case(deadline < expires_at, deadline, expires_at),
                    )
                    .returning(*returned)
                )
            ).first()
            if won is not None:
                return Rotation(
                    winner=True,
                    sealed_successor=sealed_successor,
                    expires_at=won.expires_at,
                    role=won.role if read_role else None,
                )
            record = (
                await conn.execute(
                    select(sessions, users.c.role)
                    .select_from(sessions.outerjoin(users, owner))
                    .where(sessions.c.family == family)
                )
            ).first()
            outcome = _lost_rotation(
                family, record, presented_jti=presented_jti, now=now, grace=grace, max_age=max_age
            )
            if isinstance(outcome, Rotation) and read_role:
                current = None if record is None else record.role
                outcome = (
                    ("user", SessionRevoked(family))  # its user is gone
                    if current is None
                    else Rotation(
                        winner=False,
                        sealed_successor=outcome.sealed_successor,
                        expires_at=outcome.expires_at,
                        role=current,
                    )
                )
            if isinstance(outcome, Rotation):
                return outcome
            reason, failure = outcome
            if reason is not None:
                await conn.execute(_revocation(family, now=now, reason=reason))
        raise failure

    async def revoke_family(self, family: str, *, now: float) -> bool:
        """Revoke one family; False if unknown or already revoked."""
        return await self._revoke(family, now=now, reason="logout")

    async def revoke_user(self, username: str, *, now: float) -> int:
        """Bump the user's session generation, then revoke every live family, in one transaction."""
        bump = self._insert(session_generations).values(username=username, generation=1)
        bump = bump.on_conflict_do_update(
            index_elements=[session_generations.c.username],
            set_={"generation": session_generations.c.generation + 1},
        )
        async with self._begin() as conn:
            await conn.execute(bump)
            result = await conn.execute(
                update(sessions)
                .where(sessions.c.username == username, sessions.c.revoked_at.is_(None))
                .values(revoked_at=now, revoke_reason="user", successor_sealed=None)
            )
        return int(result.rowcount)

    async def get(self, family: str) -> SessionRecord | None:
        """The family's record, or None."""
        row = await self._row(family)
        if row is None:
            return None
        return SessionRecord(
            family=row.family,
            username=row.username,
            current_jti=row.current_jti,
            ver=row.ver,
            previous_jti=row.previous_jti,
            rotated_at=row.rotated_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
        )

    async def purge(self, *, now: float) -> int:
        """Delete families that expired before ``now`` (a range search of the ``expires_at`` index)."""
        async with self._begin() as conn:
            result = await conn.execute(session_purge_statement(now))
        return int(result.rowcount)

    async def _row(self, family: str) -> Any:
        async with self._begin() as conn:
            return (await conn.execute(select(sessions).where(sessions.c.family == family))).first()

    async def _revoke(self, family: str, *, now: float, reason: str) -> bool:
        async with self._begin() as conn:
            result = await conn.execute(_revocation(family, now=now, reason=reason))
        return bool(result.rowcount == 1)


_OWNER_ROLE: Final[Any] = literal_column(
    "(SELECT u.role FROM tokenbench_users AS u WHERE u.username = tokenbench_refresh_sessions.username)"
).label("role")
"""The family's user's role, for ``RETURNING``: spelled out, because SQLAlchemy renders the columns of a
``RETURNING`` clause without their table on SQLite, which turned a correlated subquery into
``WHERE username = username`` (every user's row: the first user's role)."""


def _revocation(family: str, *, now: float, reason: str) -> Any:
    """``UPDATE`` that revokes one live family."""
    return (
        update(sessions)
        .where(sessions.c.family == family, sessions.c.revoked_at.is_(None))
        .values(revoked_at=now, revoke_reason=reason, successor_sealed=None)
    )


def _lost_rotation(
    family: str, record: Any, *, presented_jti: str, now: float, grace: int, max_age: float
) -> Rotation | tuple[str | None, StoreError]:
    """What a rotation whose compare-and-set matched nothing comes to.

    A grace retry's :class:`Rotation`, or (the revocation reason, or None to leave the family as it is;
    the error to raise). ``record`` is the family's row.
    """
    if record is None or record.revoked_at is not None:
        return None, SessionRevoked(family)
    if record.created_at + max_age <= now:
        return "max_age", SessionRevoked(family)
    if record.expires_at <= now:
        return None, SessionRevoked(family)
    if (
        grace > 0
        and record.previous_jti == presented_jti
        and record.rotated_at is not None
        and now <= record.rotated_at + grace
        and record.successor_sealed is not None
    ):
        return Rotation(winner=False, sealed_successor=record.successor_sealed, expires_at=record.expires_at)
    return "reuse", SessionReused(family)


class SqlRateLimiter(_SqlStore):
    """Fixed-window counters in ``tokenbench_login_windows``: one upsert per attempt."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine)
        self._next_purge = 0.0

    async def hit(self, key: str, *, limit: int, period: int, now: float) -> int:
        """Count an attempt; raise :class:`RateLimited` past ``limit`` per ``period`` seconds; the count."""
        (window,) = await self.hit_all([Hit(key, limit, period)], now=now)
        return window.count

    async def hit_all(self, hits: Sequence[Hit], *, now: float) -> tuple[Window, ...]:
        """One upsert per counter, all in one transaction; see :meth:`RateLimiter.hit_all`."""
        windows: list[Window] = []
        async with self._begin() as conn:
            for hit in hits:
                start, end, count = (await conn.execute(self._upsert(hit, now))).one()
                windows.append(Window(hit.key, float(start), float(end), int(count)))
            if now >= self._next_purge:
                self._next_purge = now + PURGE_INTERVAL
                await conn.execute(purge_statement(now))
        return refuse_past_limits(hits, windows, now=now)

    async def refund(self, windows: Sequence[Window]) -> None:
        """Take one attempt back off each window, if it is still the key's window; never below zero."""
        async with self._begin() as conn:
            for window in windows:
                await conn.execute(
                    update(login_windows)
                    .where(
                        login_windows.c.key == window.key,
                        login_windows.c.window_start == window.start,
                        login_windows.c.count > 0,
                    )
                    .values(count=login_windows.c.count - 1)
                )

    def _upsert(self, hit: Hit, now: float) -> Any:
        stmt = self._insert(login_windows).values(
            key=hit.key, window_start=now, window_end=now + hit.period, count=1
        )
        ended = stmt.excluded.window_start >= login_windows.c.window_end
        return stmt.on_conflict_do_update(
            index_elements=[login_windows.c.key],
            set_={
                "window_start": _case(ended, stmt.excluded.window_start, login_windows.c.window_start),
                "window_end": _case(ended, stmt.excluded.window_end, login_windows.c.window_end),
                "count": _case(ended, 1, login_windows.c.count + 1),
            },
        ).returning(login_windows.c.window_start, login_windows.c.window_end, login_windows.c.count)


def session_purge_statement(now: float) -> Any:
    """``DELETE`` the refresh families that expired before ``now``."""
    return delete(sessions).where(sessions.c.expires_at < now)


def purge_statement(now: float) -> Any:
    """``DELETE`` the windows that ended before ``now`` (a range scan of the ``window_end`` index)."""
    return delete(login_windows).where(login_windows.c.window_end < now)


def _case(condition: Any, then: Any, otherwise: Any) -> Any:
    return case((condition, then), else_=otherwise)


def _user(row: Any) -> UserRecord:
    return UserRecord(
        username=row.username, role=row.role, password_hash=row.password_hash, created_at=row.created_at
    )
