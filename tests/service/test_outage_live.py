"""Store outages and crashes on real servers (issue 8 point 4).

The tests start their own throw-away Redis and PostgreSQL on private ports and stop them in the middle of
a run: ``/me`` keeps answering, login, refresh and logout answer 503 ``store_unavailable`` with
``Retry-After``, ``/health`` names the store, and everything recovers without a restart when the store
returns. Then ``kill -9`` of one of two processes under login/refresh load: no committed user or session
is lost and the other process keeps serving.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.service.conftest import free_port

pytestmark = pytest.mark.e2e

SERVER_TOOLS = ("redis-server", "initdb", "pg_ctl")


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not on PATH (Debian: postgresql, redis-server)"
        if os.environ.get("CI"):
            pytest.fail(f"CI is set, so the outage tests do not skip: {message}")
        pytest.skip(message)
    return path


class PrivateRedis:
    """A redis-server on a free port with an append-only file, so its data survives a restart."""

    def __init__(self, directory: Path) -> None:
        self.binary = require_tool("redis-server")
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


class PrivatePostgres:
    """A PostgreSQL cluster made by initdb in a temporary directory, on a free port."""

    def __init__(self, directory: Path) -> None:
        require_tool("initdb")
        require_tool("pg_ctl")
        self.directory = directory
        self.data = directory / "data"
        self.port = free_port()
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"
        directory.mkdir(parents=True, exist_ok=True)
        as_postgres = os.geteuid() == 0  # initdb refuses to run as root
        if as_postgres:
            shutil.chown(directory, "postgres")
        self.prefix = ["runuser", "-u", "postgres", "--"] if as_postgres else []
        subprocess.run(
            [*self.prefix, "initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync"],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def pg_ctl(self, *args: str) -> None:
        subprocess.run(
            [*self.prefix, "pg_ctl", "-D", str(self.data), "-l", str(self.directory / "postgres.log"), *args],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.pg_ctl("-o", options, "-w", "start")

    def stop(self) -> None:
        self.pg_ctl("-m", "immediate", "-w", "stop")


def wait_for_port(port: int, limit: float = 15.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}", timeout=0.2)
        except httpx.RemoteProtocolError:
            return  # something answers, just not HTTP
        except httpx.TransportError:
            time.sleep(0.05)
            continue
        return
    pytest.fail(f"nothing listens on port {port} after {limit} s")


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    redis = PrivateRedis(tmp_path)
    redis.start()
    yield redis
    redis.stop()


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    # Not under tmp_path: pytest's directories are private to root, and the cluster runs as postgres.
    directory = Path(tempfile.mkdtemp(prefix="tokenbench-pg-"))
    try:
        postgres = PrivatePostgres(directory)
        postgres.start()
        yield postgres
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped by the test
            postgres.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def login(url: str, password: str) -> httpx.Response:
    return httpx.post(f"{url}/auth/login", json={"username": "alice", "password": password}, timeout=10)


def refresh(url: str, cookie: str) -> httpx.Response:
    return httpx.post(
        f"{url}/auth/refresh",
        headers={"Cookie": f"refresh_token={cookie}", "X-Requested-With": "outage-test"},
        timeout=10,
    )


def logout(url: str, cookie: str) -> httpx.Response:
    return httpx.post(
        f"{url}/auth/logout",
        headers={"Cookie": f"refresh_token={cookie}", "X-Requested-With": "outage-test"},
        timeout=10,
    )


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "store_unavailable"
    assert int(response.headers["retry-after"]) > 0


def until(check, limit: float = 20.0) -> float:
    """Seconds until ``check()`` is true (polled), or fail."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if check():
            return time.monotonic() - started
        time.sleep(0.2)
    pytest.fail(f"not recovered after {limit} s")


def outage_and_recovery(server, stop, start, store: str) -> None:
    password = server.demo_passwords()["alice"]
    first = login(server.url, password)
    assert first.status_code == 200
    access, cookie = first.json()["access_token"], first.cookies["refresh_token"]
    bearer = {"Authorization": f"Bearer {access}"}

    stop()
    assert httpx.get(f"{server.url}/me", headers=bearer).status_code == 200
    assert_unavailable(login(server.url, password))
    assert_unavailable(refresh(server.url, cookie))
    assert_unavailable(logout(server.url, cookie))
    health = httpx.get(f"{server.url}/health", timeout=10)
    assert health.status_code == 503
    assert health.json()[store] == "unavailable"
    assert httpx.get(f"{server.url}/health/live").status_code == 200

    start()
    until(lambda: httpx.get(f"{server.url}/health", timeout=10).status_code == 200)
    until(lambda: login(server.url, password).status_code == 200)
    rotated = refresh(server.url, cookie)  # the session from before the outage survived it
    assert rotated.status_code == 200, rotated.text
    assert logout(server.url, rotated.cookies["refresh_token"]).status_code == 204
    assert httpx.get(f"{server.url}/me", headers=bearer).status_code == 200


def test_a_redis_outage_mid_run_fails_sessions_closed_and_recovers_without_a_restart(
    serve, private_redis: PrivateRedis
) -> None:
    server = serve("jwt-es256", "--demo", env={"TOKENBENCH_REDIS_URL": private_redis.url})
    outage_and_recovery(server, private_redis.stop, private_redis.start, "sessions")


def test_a_postgresql_outage_mid_run_fails_closed_and_recovers_without_a_restart(
    serve, private_postgres: PrivatePostgres
) -> None:
    server = serve("paseto-v4-public", "--demo", env={"TOKENBENCH_DATABASE_URL": private_postgres.url})
    outage_and_recovery(server, private_postgres.stop, private_postgres.start, "database")


def test_kill_9_of_one_process_loses_no_committed_user_or_session(
    serve, private_postgres: PrivatePostgres, private_redis: PrivateRedis
) -> None:
    env = {
        "TOKENBENCH_DATABASE_URL": private_postgres.url,
        "TOKENBENCH_REDIS_URL": private_redis.url,
        "TOKENBENCH_LOGIN_RATE_LIMIT": "off",
    }
    first = serve("jwt-hs256", "--demo", env=env)
    second = serve("jwt-hs256", env=env)
    admin_password = first.demo_passwords()["admin"]
    admin = httpx.post(f"{first.url}/auth/login", json={"username": "admin", "password": admin_password})
    bearer = {"Authorization": f"Bearer {admin.json()['access_token']}"}

    created: list[str] = []  # users whose creation answered 201
    chains: dict[str, str] = {}  # user -> latest refresh cookie that a 200 answer handed out
    survivor_failures: list[str] = []
    stop = threading.Event()
    killed = threading.Event()

    def work(url: str, worker: int) -> None:
        n = 0
        with httpx.Client(base_url=url, timeout=10) as client:
            while not stop.is_set():
                n += 1
                username = f"crash-{worker}-{n}"
                try:
                    failure = step(client, username)
                except httpx.TransportError as exc:
                    failure = f"{type(exc).__name__}: {exc}"
                if failure is None:
                    continue
                if url == first.url and killed.is_set():
                    return  # the killed process: its requests in flight may fail
                survivor_failures.append(f"{url}: {failure}")

    def step(client: httpx.Client, username: str) -> str | None:
        made = client.post(
            "/admin/users",
            headers=bearer,
            json={"username": username, "password": "crash-password", "role": "user"},
        )
        if made.status_code != 201:
            return f"create {made.status_code}"
        created.append(username)
        logged = client.post("/auth/login", json={"username": username, "password": "crash-password"})
        client.cookies.clear()
        if logged.status_code != 200:
            return f"login {logged.status_code}"
        chains[username] = logged.cookies["refresh_token"]
        for _ in range(2):
            rotated = client.post(
                "/auth/refresh",
                headers={"Cookie": f"refresh_token={chains[username]}", "X-Requested-With": "t"},
            )
            client.cookies.clear()
            if rotated.status_code != 200:
                return f"refresh {rotated.status_code}"
            chains[username] = rotated.cookies["refresh_token"]
        return None

    workers = [
        threading.Thread(target=work, args=(url, i), daemon=True)
        for i, url in enumerate([first.url, first.url, second.url, second.url])
    ]
    for thread in workers:
        thread.start()
    time.sleep(1.5)
    killed.set()
    os.killpg(first.process.pid, signal.SIGKILL)
    first.process.wait(timeout=10)
    time.sleep(1.5)
    stop.set()
    for thread in workers:
        thread.join(timeout=30)

    print(
        f"kill -9: {len(created)} users created, {len(chains)} refresh chains, failures {survivor_failures}"
    )
    assert survivor_failures == [], "the surviving process refused or dropped requests"
    assert len(created) >= 4
    listed = {u["username"] for u in httpx.get(f"{second.url}/admin/users", headers=bearer).json()}
    assert set(created) <= listed, "a user whose creation was confirmed is gone"
    for username, cookie in chains.items():
        rotated = refresh(second.url, cookie)
        assert rotated.status_code == 200, f"{username}: the last confirmed session is gone ({rotated.text})"
