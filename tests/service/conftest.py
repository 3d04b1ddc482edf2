"""Service fixtures: the app built from ``format_name`` (so every HTTP test runs once per format), on a
temporary SQLite file and key directory, with cheap argon2 parameters and the fixed clock."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from redis.asyncio import Redis

from formats import ClaimPolicy, FormatName
from service.app import create_app
from service.auth.credentials import RefreshCookie
from service.auth.roles import Role
from service.services import Services
from service.settings import Argon2Params, RateLimit, Secret, Settings
from service.stores import Stores
from service.stores.redis import RedisRateLimiter, RedisSessionStore
from service.stores.sql import SqlUserStore, create_engine, create_schema, metadata

T = TypeVar("T")

POSTGRES_URL = os.environ.get(
    "TOKENBENCH_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("TOKENBENCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

CHEAP_ARGON2 = Argon2Params(time_cost=1, memory_cost=8, parallelism=1)
"""Test-only: about 50 µs a hash. Production defaults are t=3, m=64 MiB, p=1 (docs/operations.md)."""

PASSWORDS = {"admin": "admin-password-1", "alice": "alice-password-1"}
BASE_URL = "https://tokenbench.test"
CSRF = {"X-Requested-With": "tokenbench-tests"}
"""The header the cookie routes need (``service.auth.csrf``); every test client sends it by default."""


def sqlite_url(path: Path) -> Secret:
    url = f"sqlite+aiosqlite:///{path}"
    return Secret(url, shown=url)


@pytest.fixture
def cheap_argon2() -> Argon2Params:
    return CHEAP_ARGON2


@pytest.fixture
def settings(tmp_path: Path, format_name: FormatName, policy: ClaimPolicy) -> Settings:
    """Settings of a test deployment: temporary SQLite and keys, the shared claim policy."""
    return Settings(
        format=format_name,
        database_url=sqlite_url(tmp_path / "tokenbench.db"),
        keys_dir=tmp_path / "keys",
        leeway=policy.leeway,
        issuer=policy.issuer,
        audience=policy.audience,
        login_rate_limit=RateLimit(count=1000, period=60),
        login_address_rate_limit=RateLimit(count=1000, period=60),
        login_account_rate_limit=RateLimit(count=1000, period=60),
        argon2=CHEAP_ARGON2,
    )


@dataclass
class Api:
    """A test client on the app, plus the app's own services and a way to run coroutines on its loop."""

    client: TestClient[Litestar]
    services: Services

    def run(self, fn: Callable[[], Awaitable[T]]) -> T:
        with self.client.portal() as portal:
            return portal.call(fn)

    def add_user(self, username: str, password: str, role: Role = Role.USER) -> None:
        async def add() -> None:
            password_hash = await self.services.hasher.hash(password)
            await self.services.stores.users.create(
                username, role=role.value, password_hash=password_hash, now=0.0
            )

        self.run(add)

    def login(self, username: str, password: str, **kwargs: Any) -> Any:
        return self.client.post("/auth/login", json={"username": username, "password": password}, **kwargs)

    def login_as(self, username: str, **kwargs: Any) -> Any:
        """Log in a seeded user (``admin`` or ``alice``) and expect 200."""
        response = self.login(username, PASSWORDS[username], **kwargs)
        assert response.status_code == 200, response.text
        return response

    def token_as(self, username: str) -> str:
        return str(self.login_as(username).json()["access_token"])

    def bearer(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token_as(username)}"}

    @property
    def cookie(self) -> RefreshCookie:
        """The refresh cookie's name and path in this app (``__Host-refresh_token`` at ``/`` when secure)."""
        return RefreshCookie.of(secure=self.services.settings.cookie_secure)

    @property
    def refresh_cookie(self) -> str | None:
        return self.client.cookies.get(self.cookie.name, domain="tokenbench.test", path=self.cookie.path)

    def set_refresh_cookie(self, value: str) -> None:
        self.client.cookies.clear()
        self.client.cookies.set(self.cookie.name, value, domain="tokenbench.test", path=self.cookie.path)


def open_api(settings: Settings, clock: Any) -> Iterator[Api]:
    app = create_app(settings, clock=clock)
    with TestClient(app, base_url=BASE_URL) as client:
        client.headers.update(CSRF)
        api = Api(client=client, services=app.state.services)
        api.add_user("admin", PASSWORDS["admin"], Role.ADMIN)
        api.add_user("alice", PASSWORDS["alice"], Role.USER)
        yield api


@pytest.fixture
def api(settings: Settings, clock: Any) -> Iterator[Api]:
    """The service for ``format_name`` with users ``admin`` and ``alice``."""
    yield from open_api(settings, clock)


@pytest.fixture
def make_api(clock: Any) -> Iterator[Callable[[Settings], Api]]:
    """Build the service for changed settings: ``make_api(replace(settings, refresh_grace=0))``."""
    opened: list[Iterator[Api]] = []

    def make(changed: Settings) -> Api:
        gen = open_api(changed, clock)
        opened.append(gen)
        return next(gen)

    yield make
    for gen in opened:
        gen.close()


# --- PostgreSQL and Redis: skipped only when unreachable and CI is unset ---------------------------


def reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=1):
            return True
    except OSError:
        return False


def require_server(url: str, default_port: int, how: str) -> None:
    if reachable(url, default_port):
        return
    message = f"{url} is unreachable; {how}"
    if os.environ.get("CI"):
        pytest.fail(f"CI is set, so the store suite does not skip: {message}")
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    require_server(
        POSTGRES_URL,
        5432,
        "start PostgreSQL (e.g. `pg_ctlcluster 15 main start`, trust auth, database `test`) "
        "or set TOKENBENCH_TEST_POSTGRES_URL",
    )
    admin_dsn = POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")
    name = f"tokenbench_test_{secrets.token_hex(4)}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def redis_url() -> str:
    require_server(
        REDIS_URL, 6379, "start Redis (e.g. `redis-server --daemonize yes`) or set TOKENBENCH_TEST_REDIS_URL"
    )
    return REDIS_URL


# --- the service on each store backend ----------------------------------------------------------

STORE_BACKENDS = ("sqlite", "postgresql", "redis")
"""SQLite (users and sessions); PostgreSQL (users and sessions); Redis (sessions and rate limits, users in
SQLite): what ``open_stores`` builds for the three ways to deploy."""


async def wipe(url: str) -> None:
    """Empty a shared test database: each test starts with no users, sessions or attempts."""
    engine = create_engine(url)
    try:
        await create_schema(engine)
        async with engine.begin() as conn:
            for table in reversed(metadata.sorted_tables):
                await conn.execute(table.delete())
    finally:
        await engine.dispose()


def redis_stores(settings: Settings, url: str, prefix: str | None = None, *, forget: bool = True) -> Stores:
    """Stores as ``open_stores`` builds them for a Redis URL, in a key space private to the test.

    ``prefix`` (default: a fresh one) lets two runs of the service share the key space (a restart);
    ``forget`` deletes the keys at shutdown.
    """
    engine = create_engine(settings.database_url.reveal())
    client = Redis.from_url(url)
    prefix = prefix or f"tokenbench-test:{secrets.token_hex(6)}:"

    async def startup() -> None:
        await create_schema(engine)

    async def shutdown() -> None:
        if forget:
            keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
            if keys:
                await client.delete(*keys)
        await client.aclose()
        await engine.dispose()

    return Stores(
        users=SqlUserStore(engine),
        sessions=RedisSessionStore(client, prefix=prefix),
        rate_limiter=RedisRateLimiter(client, prefix=prefix),
        database="sqlite",
        sessions_backend="redis",
        startup=startup,
        shutdown=shutdown,
    )


def on_backend(
    request: pytest.FixtureRequest, backend: str, settings: Settings
) -> tuple[Settings, Stores | None]:
    """``settings`` moved to ``backend``, and the stores to inject (None: the app opens its own).

    SQLite as given; PostgreSQL: the session's test database, wiped; Redis: :func:`redis_stores` (its
    ``shutdown`` is the caller's to run).
    """
    if backend == "postgresql":
        url = request.getfixturevalue("postgres_database")
        asyncio.run(wipe(url))
        return replace(settings, database_url=Secret(url)), None
    if backend == "redis":
        return settings, redis_stores(settings, request.getfixturevalue("redis_url"))
    return settings, None


@pytest.fixture(params=STORE_BACKENDS)
def store_backend(request: pytest.FixtureRequest) -> str:
    """Each backend in turn (a test that takes it runs three times)."""
    return str(request.param)


# --- tokenbench serve as a real process -------------------------------------------------------

CHEAP_ARGON2_ENV = {
    "TOKENBENCH_ARGON2_TIME_COST": "1",
    "TOKENBENCH_ARGON2_MEMORY_COST": "8",
    "TOKENBENCH_ARGON2_PARALLELISM": "1",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text()

    def demo_passwords(self) -> dict[str, str]:
        """The passwords ``--demo`` printed, by user name."""
        return dict(re.findall(r"^\s+(\w+)\s+role \w+\s+password (\S+)$", self.output(), re.MULTILINE))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)


def start_server(
    state: Path, format_name: str, *args: str, env: dict[str, str] | None = None, ready: str = "/health"
) -> Server:
    port = free_port()
    log = state / f"serve-{port}.log"
    environ = {
        **os.environ,
        **CHEAP_ARGON2_ENV,
        "TOKENBENCH_DATABASE_URL": f"sqlite+aiosqlite:///{state / 'tokenbench.db'}",
        "TOKENBENCH_KEYS_DIR": str(state / "keys"),
        "TOKENBENCH_COOKIE_SECURE": "false",
        "TOKENBENCH_FORMAT": format_name,
        **(env or {}),
    }
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", "--host", "127.0.0.1", "--port", str(port), *args],
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"tokenbench serve exited with {process.returncode}:\n{server.output()}")
        try:
            if httpx.get(f"{server.url}{ready}", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.stop()
    pytest.fail(f"tokenbench serve did not answer {ready} within 30 s:\n{server.output()}")


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start ``tokenbench serve`` on a free port with temporary SQLite and keys; stopped at the end."""
    servers: list[Server] = []

    def start(
        format_name: str, *args: str, env: dict[str, str] | None = None, ready: str = "/health"
    ) -> Server:
        server = start_server(tmp_path, format_name, *args, env=env, ready=ready)
        servers.append(server)
        return server

    yield start
    for server in servers:  # every one shuts down at once, then each is waited for
        if server.process.poll() is None:
            server.process.send_signal(signal.SIGINT)
    for server in servers:
        server.stop()


@pytest.fixture
def cheap_argon2_env() -> dict[str, str]:
    return dict(CHEAP_ARGON2_ENV)
