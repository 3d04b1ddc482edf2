"""A fleet on real ports: three ``tokenbench serve`` processes on PostgreSQL + Redis sharing one key
directory, plus a ``serve --verify-only`` service for the asymmetric formats (issue 8).

While a loop logs in on every process, calls ``/me`` on every other one and on the verifier, and refreshes
on the next process, the key is rotated with a short activation delay and ``TOKENBENCH_KEYS_RELOAD=1``:
not one request is refused, and every token issued after the activation time carries the new key id,
whichever process issued it. Then the old key is retired: every process and the verifier refuse its
tokens within the reload interval (plus the verifier's cache lifetime, the same one second).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from formats import FORMATS, FormatName
from formats.inspect import explain
from formats.keys import KeyRole, list_key_files
from service.cli import main
from service.passwords import PasswordHasher
from service.settings import Secret, Settings
from service.stores import open_stores
from service.stores.base import UserExists
from tests.service.conftest import CHEAP_ARGON2

pytestmark = pytest.mark.e2e

PASSWORD = "fleet-password-1"
RELOAD = 1
ACTIVATE_AFTER = 3


@dataclass
class Event:
    sent: float
    op: str
    target: str
    status: int
    code: str | None = None
    kid: str | None = None


def create_user(database_url: str, username: str) -> None:
    settings = Settings(database_url=Secret(database_url), argon2=CHEAP_ARGON2)

    async def create() -> None:
        stores = open_stores(settings)
        await stores.startup()
        try:
            password_hash = await PasswordHasher(CHEAP_ARGON2).hash(PASSWORD)
            with contextlib.suppress(UserExists):
                await stores.users.create(username, role="user", password_hash=password_hash, now=time.time())
        finally:
            await stores.shutdown()

    asyncio.run(create())


class Load:
    """Logs in on every issuer, checks /me on every other process and the verifier, refreshes on the next."""

    def __init__(self, issuers: dict[str, str], verifiers: dict[str, str], username: str) -> None:
        self.issuers = issuers
        self.verifiers = verifiers
        self.username = username
        self.events: list[Event] = []
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self.run_safely, daemon=True)

    def run_safely(self) -> None:
        try:
            self.run()
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.error = exc

    def record(self, sent: float, op: str, target: str, response: httpx.Response, token: str | None) -> None:
        code = None if response.status_code == 200 else response.json().get("code")
        kid = explain(token).key_id if token else None
        self.events.append(Event(sent, op, target, response.status_code, code, kid))

    def run(self) -> None:
        clients = {name: httpx.Client(base_url=url, timeout=10) for name, url in self.issuers.items()}
        clients |= {name: httpx.Client(base_url=url, timeout=10) for name, url in self.verifiers.items()}
        names = list(self.issuers)
        try:
            while not self.stop.is_set():
                for i, issuer in enumerate(names):
                    sent = time.time()
                    login = clients[issuer].post(
                        "/auth/login", json={"username": self.username, "password": PASSWORD}
                    )
                    access = login.json().get("access_token") if login.status_code == 200 else None
                    self.record(sent, "login", issuer, login, access)
                    if access is None:
                        continue
                    for other in [n for n in clients if n != issuer]:
                        sent = time.time()
                        me = clients[other].get("/me", headers={"Authorization": f"Bearer {access}"})
                        self.record(sent, "me", other, me, None)
                    refresher = names[(i + 1) % len(names)]
                    sent = time.time()
                    cookie = f"refresh_token={login.cookies['refresh_token']}"
                    clients[issuer].cookies.clear()  # one refresh cookie per request, sent by hand
                    refreshed = clients[refresher].post(
                        "/auth/refresh", headers={"Cookie": cookie, "X-Requested-With": "fleet-test"}
                    )
                    clients[refresher].cookies.clear()
                    fresh = refreshed.json().get("access_token") if refreshed.status_code == 200 else None
                    self.record(sent, "refresh", refresher, refreshed, fresh)
                    if fresh is not None:
                        sent = time.time()
                        me = clients[issuer].get("/me", headers={"Authorization": f"Bearer {fresh}"})
                        self.record(sent, "me", issuer, me, None)
        finally:
            for client in clients.values():
                client.close()


def start_all(serve, name: str, env: dict[str, str], count: int) -> list:
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: serve(name, env=env), range(count)))


def refused_after(url: str, token: str, started: float, limit: float = 8.0) -> float:
    """Seconds from ``started`` until ``url``/me refuses ``token`` with token_unknown_key."""
    while time.time() - started < limit:
        response = httpx.get(f"{url}/me", headers={"Authorization": f"Bearer {token}"})
        if response.status_code == 401:
            assert response.json()["code"] == "token_unknown_key"
            return time.time() - started
        assert response.status_code == 200
        time.sleep(0.05)
    pytest.fail(f"{url} still accepts a retired key's token after {limit} s")


@pytest.mark.short_form
def test_a_rotation_under_load_refuses_nothing_and_retire_refuses_the_old_key_everywhere(
    serve, format_name: FormatName, postgres_database: str, redis_url: str, tmp_path: Path
) -> None:
    name = format_name.value
    keys_dir = tmp_path / "keys"
    assert main(["keys", "generate", "--format", name, "--keys-dir", str(keys_dir)]) == 0
    (old,) = list_key_files(keys_dir, name)
    username = f"fleet-{name}"
    create_user(postgres_database, username)
    env = {
        "TOKENBENCH_DATABASE_URL": postgres_database,
        "TOKENBENCH_REDIS_URL": redis_url,
        "TOKENBENCH_KEYS_RELOAD": str(RELOAD),
        "TOKENBENCH_LOGIN_RATE_LIMIT": "off",
    }
    a, b, c = start_all(serve, name, env, 3)
    issuers = {"A": a.url, "B": b.url, "C": c.url}
    verifiers = {}
    if FORMATS[format_name].public_document is not None:
        verifier = serve(
            name, "--verify-only", "--issuer-url", a.url, env={"TOKENBENCH_KEYS_RELOAD": str(RELOAD)}
        )
        verifiers["V"] = verifier.url

    load = Load(issuers, verifiers, username)
    load.thread.start()
    time.sleep(1.0)
    before = next(e for e in load.events if e.op == "login" and e.status == 200)
    old_token_holder = httpx.post(f"{a.url}/auth/login", json={"username": username, "password": PASSWORD})
    old_token = old_token_holder.json()["access_token"]
    assert explain(old_token).key_id == old.kid == before.kid

    rotate = ["keys", "rotate", "--format", name, "--keys-dir", str(keys_dir)]
    assert main([*rotate, "--activate-after", str(ACTIVATE_AFTER)]) == 0
    new = next(f for f in list_key_files(keys_dir, name) if f.role is KeyRole.NEXT)
    assert new.activates is not None
    activation = new.activates.timestamp()
    while time.time() < activation + 2.0:
        time.sleep(0.1)
    load.stop.set()
    load.thread.join(timeout=30)
    if load.error is not None:
        raise load.error

    print(f"{name}: {len(load.events)} requests during the rotation, activation after {ACTIVATE_AFTER} s")
    refused = [e for e in load.events if e.status != 200]
    assert refused == [], f"{len(refused)} of {len(load.events)} requests refused during the rotation"
    issued = [e for e in load.events if e.kid is not None]
    assert len({e.target for e in issued if e.sent < activation}) == 3
    assert {e.kid for e in issued if e.sent < activation - 0.5} == {old.kid}
    after = [e for e in issued if e.sent > activation]
    assert {e.target for e in after} == {"A", "B", "C"}, "every process issued after the activation"
    assert {e.kid for e in after} == {new.kid}, "every token issued after the activation is the new key's"
    assert sum(e.op == "me" for e in load.events if e.sent > activation) >= len(issuers) + len(verifiers)

    # The leaked-key emergency: retire the old key; every process refuses its tokens within the interval.
    retired_at = time.time()
    assert main(["keys", "retire", "--format", name, "--keys-dir", str(keys_dir), "--kid", old.kid]) == 0
    delays = {
        target: refused_after(url, old_token, retired_at) for target, url in {**issuers, **verifiers}.items()
    }
    print(f"{name}: old key refused after {delays} s (TOKENBENCH_KEYS_RELOAD={RELOAD})")
    assert all(delays[t] < RELOAD + 1.5 for t in issuers), delays
    assert all(delays[t] < 2 * RELOAD + 2.5 for t in verifiers), delays
    fresh = httpx.post(f"{b.url}/auth/login", json={"username": username, "password": PASSWORD}).json()
    for url in [*issuers.values(), *verifiers.values()]:
        assert (
            httpx.get(f"{url}/me", headers={"Authorization": f"Bearer {fresh['access_token']}"}).status_code
            == 200
        )
