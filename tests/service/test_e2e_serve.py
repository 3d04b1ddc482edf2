"""End to end: ``tokenbench serve`` as a real process (granian) on a free port, temporary SQLite and key
directory, driven over real HTTP with httpx. Then a restart: users and sessions survive."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from formats import FormatName

pytestmark = pytest.mark.e2e

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

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)


def start_server(state: Path, format_name: str, *args: str, env: dict[str, str] | None = None) -> Server:
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
            if httpx.get(f"{server.url}/health", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.stop()
    pytest.fail(f"tokenbench serve did not answer /health within 30 s:\n{server.output()}")


@pytest.fixture
def serve(tmp_path: Path) -> Iterator:
    servers: list[Server] = []

    def start(format_name: str, *args: str, env: dict[str, str] | None = None) -> Server:
        server = start_server(tmp_path, format_name, *args, env=env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def demo_passwords(output: str) -> dict[str, str]:
    return dict(re.findall(r"^\s+(\w+)\s+role \w+\s+password (\S+)$", output, re.MULTILINE))


def test_serve_demo_drives_the_whole_flow_over_http(serve, format_name: FormatName) -> None:
    server = serve(format_name.value, "--demo")
    passwords = demo_passwords(server.output())
    assert set(passwords) == {"admin", "alice"}

    with httpx.Client(base_url=server.url) as alice:
        login = alice.post("/auth/login", json={"username": "alice", "password": passwords["alice"]})
        assert login.status_code == 200
        assert login.json()["format"] == format_name.value
        assert "HttpOnly" in login.headers["set-cookie"]
        bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
        assert alice.get("/me", headers=bearer).json()["username"] == "alice"
        assert alice.get("/admin/users", headers=bearer).status_code == 403

        first = alice.cookies["refresh_token"]
        assert alice.post("/auth/refresh").status_code == 200
        second = alice.cookies["refresh_token"]
        assert second != first

        reuse = httpx.post(f"{server.url}/auth/refresh", cookies={"refresh_token": first})
        assert reuse.status_code == 200  # within the 10 s grace window: the same successor
        assert reuse.cookies["refresh_token"] == second

        assert alice.post("/auth/logout").status_code == 204
        after_logout = httpx.post(f"{server.url}/auth/refresh", cookies={"refresh_token": second})
        assert after_logout.status_code == 401
        assert after_logout.json()["code"] == "token_revoked"

    with httpx.Client(base_url=server.url) as admin:
        token = admin.post("/auth/login", json={"username": "admin", "password": passwords["admin"]}).json()
        bearer = {"Authorization": f"Bearer {token['access_token']}"}
        created = admin.post(
            "/admin/users",
            headers=bearer,
            json={"username": "bob", "password": "bob-password", "role": "user"},
        )
        assert created.status_code == 201
        assert [u["username"] for u in admin.get("/admin/users", headers=bearer).json()] == [
            "admin",
            "alice",
            "bob",
        ]
        promoted = admin.patch("/admin/users/bob", headers=bearer, json={"role": "admin"})
        assert promoted.json()["role"] == "admin"

    health = httpx.get(f"{server.url}/health").json()
    assert health == {
        "status": "ok",
        "format": format_name.value,
        "database": "ok",
        "sessions": "ok",
        "backends": {"database": "sqlite", "sessions": "sqlite"},
    }


def test_strict_server_revokes_the_family_on_reuse_over_http(serve) -> None:
    server = serve("paseto-v4-public", "--demo", env={"TOKENBENCH_REFRESH_GRACE": "0"})
    password = demo_passwords(server.output())["alice"]
    with httpx.Client(base_url=server.url) as client:
        client.post("/auth/login", json={"username": "alice", "password": password})
        stolen = client.cookies["refresh_token"]
        assert client.post("/auth/refresh").status_code == 200
        current = client.cookies["refresh_token"]

    replay = httpx.post(f"{server.url}/auth/refresh", cookies={"refresh_token": stolen})
    assert replay.status_code == 401
    assert replay.json()["code"] == "token_revoked"
    assert httpx.post(f"{server.url}/auth/refresh", cookies={"refresh_token": current}).status_code == 401


def create_user(state: Path, username: str, password: str, role: str) -> None:
    env = {
        **os.environ,
        **CHEAP_ARGON2_ENV,
        "TOKENBENCH_DATABASE_URL": f"sqlite+aiosqlite:///{state / 'tokenbench.db'}",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "service.cli",
            "users",
            "create",
            "--username",
            username,
            "--role",
            role,
            "--password-stdin",
        ],
        input=f"{password}\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_users_keys_and_sessions_survive_a_restart(serve, tmp_path: Path) -> None:
    create_user(tmp_path, "carol", "carol-password", "user")
    first = serve("jwt-es256")
    with httpx.Client(base_url=first.url) as client:
        login = client.post("/auth/login", json={"username": "carol", "password": "carol-password"})
        assert login.status_code == 200
        access = login.json()["access_token"]
        refresh = client.cookies["refresh_token"]
    first.stop()

    second = serve("jwt-es256")
    assert "generated" not in second.output()  # the key ring on disk is reused, not replaced
    me = httpx.get(f"{second.url}/me", headers={"Authorization": f"Bearer {access}"})
    assert me.status_code == 200
    assert me.json()["username"] == "carol"
    rotated = httpx.post(f"{second.url}/auth/refresh", cookies={"refresh_token": refresh})
    assert rotated.status_code == 200
    assert rotated.json()["format"] == "jwt-es256"
    login = httpx.post(f"{second.url}/auth/login", json={"username": "carol", "password": "carol-password"})
    assert login.status_code == 200
