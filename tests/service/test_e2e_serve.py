"""End to end: ``tokenbench serve`` as a real process (granian) on a free port, temporary SQLite and key
directory, driven over real HTTP with httpx. Then a restart: users and sessions survive."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from formats import FormatName, forge
from tests.service.conftest import CSRF

pytestmark = pytest.mark.e2e


def test_serve_demo_drives_the_whole_flow_over_http(serve, format_name: FormatName) -> None:
    server = serve(format_name.value, "--demo")
    passwords = server.demo_passwords()
    assert set(passwords) == {"admin", "alice"}

    with httpx.Client(base_url=server.url, headers=CSRF) as alice:
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

        reuse = httpx.post(f"{server.url}/auth/refresh", cookies={"refresh_token": first}, headers=CSRF)
        assert reuse.status_code == 200  # within the 10 s grace window: the same successor
        assert reuse.cookies["refresh_token"] == second

        assert alice.post("/auth/logout").status_code == 204
        after_logout = httpx.post(
            f"{server.url}/auth/refresh", cookies={"refresh_token": second}, headers=CSRF
        )
        assert after_logout.status_code == 401
        assert after_logout.json()["code"] == "token_revoked"

    with httpx.Client(base_url=server.url, headers=CSRF) as admin:
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
    password = server.demo_passwords()["alice"]
    with httpx.Client(base_url=server.url, headers=CSRF) as client:
        client.post("/auth/login", json={"username": "alice", "password": password})
        stolen = client.cookies["refresh_token"]
        assert client.post("/auth/refresh").status_code == 200
        current = client.cookies["refresh_token"]

    replay = httpx.post(f"{server.url}/auth/refresh", cookies={"refresh_token": stolen}, headers=CSRF)
    assert replay.status_code == 401
    assert replay.json()["code"] == "token_revoked"
    after = httpx.post(f"{server.url}/auth/refresh", cookies={"refresh_token": current}, headers=CSRF)
    assert after.status_code == 401


def test_paseto_tokens_from_the_running_service_carry_whole_second_times(serve) -> None:
    # Issue 12: the service wrote 2026-12-02T05:51:28.707747Z, ~20 bytes a JWT does not pay; now both
    # formats write whole seconds, so every login gives tokens of one size.
    server = serve("paseto-v4-public", "--demo")
    password = server.demo_passwords()["alice"]
    whole_second = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\Z")
    sizes: set[tuple[int, int]] = set()
    for _ in range(3):
        with httpx.Client(base_url=server.url) as client:
            login = client.post("/auth/login", json={"username": "alice", "password": password})
            assert login.status_code == 200
            tokens = (login.json()["access_token"], client.cookies["refresh_token"])
        for token in tokens:
            claims = json.loads(forge.paseto_split(token)[1][:-64])
            for name in ("iat", "nbf", "exp"):
                assert whole_second.match(claims[name]), claims[name]
        sizes.add((len(tokens[0]), len(tokens[1])))
    assert len(sizes) == 1, sizes


def create_user(state: Path, username: str, password: str, role: str, argon2_env: dict[str, str]) -> None:
    env = {
        **os.environ,
        **argon2_env,
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


def test_users_keys_and_sessions_survive_a_restart(serve, tmp_path: Path, cheap_argon2_env) -> None:
    create_user(tmp_path, "carol", "carol-password", "user", cheap_argon2_env)
    first = serve("jwt-es256")
    with httpx.Client(base_url=first.url, headers=CSRF) as client:
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
    rotated = httpx.post(f"{second.url}/auth/refresh", cookies={"refresh_token": refresh}, headers=CSRF)
    assert rotated.status_code == 200
    assert rotated.json()["format"] == "jwt-es256"
    login = httpx.post(f"{second.url}/auth/login", json={"username": "carol", "password": "carol-password"})
    assert login.status_code == 200
