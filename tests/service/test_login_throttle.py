"""Login throttling over HTTP on every backend (SQLite, PostgreSQL, Redis): the per-address limit (IPv6
by /56, or TOKENBENCH_LOGIN_IPV6_PREFIX; IPv6 forms of an IPv4 address as that address), the per-account
limit, both before any argon2 work, and the bounded argon2 queue (503).

The peer address of each request is chosen by the test: a thin ASGI wrapper copies the ``x-test-peer``
header into the scope's ``client`` (what a server puts there from the socket), so one in-process client
can speak from many addresses. The service itself never reads that header.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from argon2 import extract_parameters, low_level
from litestar.testing import TestClient

from formats import FormatName
from service.app import create_app
from service.auth.roles import Role
from service.services import Services
from service.settings import Argon2Params, RateLimit, Secret, Settings
from service.stores import Stores
from service.stores.base import RateLimited, Window
from service.stores.sql import SqlRateLimiter, create_engine, create_schema
from service.throttle import LoginThrottle, address_group, address_key
from tests.service.conftest import on_backend

PASSWORD = "alice-password-1"
OFF_LIMITS = {"login_address_rate_limit": None, "login_account_rate_limit": None}


def with_peer_header(app: Any) -> Any:
    """The app, with the peer address taken from ``x-test-peer`` (test only)."""

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            peer = dict(scope["headers"]).get(b"x-test-peer")
            if peer is not None:
                scope = {**scope, "client": (peer.decode(), 50000)}
        await app(scope, receive, send)

    return wrapped


@dataclass
class Service:
    client: TestClient[Any]
    services: Services

    def login(self, username: str, password: str, peer: str) -> Any:
        return self.client.post(
            "/auth/login", json={"username": username, "password": password}, headers={"x-test-peer": peer}
        )

    def statuses(self, attempts: list[tuple[str, str, str]]) -> list[int]:
        return [self.login(*attempt).status_code for attempt in attempts]


@pytest.fixture
def base(tmp_path: Path, policy, cheap_argon2) -> Settings:
    return Settings(
        format=FormatName.PASETO_V4_LOCAL,
        database_url=Secret(f"sqlite+aiosqlite:///{tmp_path / 'users.db'}"),
        keys_dir=tmp_path / "keys",
        issuer=policy.issuer,
        audience=policy.audience,
        argon2=cheap_argon2,
        login_rate_limit=RateLimit(count=1000, period=60),
        login_address_rate_limit=RateLimit(count=1000, period=60),
        login_account_rate_limit=RateLimit(count=1000, period=3600),
    )


@pytest.fixture
def open_service(request: pytest.FixtureRequest, store_backend: str, base: Settings, clock) -> Iterator[Any]:
    """``open_service(**changes)``: the service on ``backend`` with ``changes`` to the settings, and alice."""
    opened: list[tuple[TestClient[Any], Stores | None]] = []

    def start(**changes: Any) -> Service:
        settings, stores = on_backend(request, store_backend, replace(base, **changes))
        app = create_app(settings, stores=stores, clock=clock)
        services: Services = app.state.services
        client = TestClient(with_peer_header(app), base_url="https://tokenbench.test")
        client.__enter__()
        opened.append((client, stores))

        async def seed() -> None:
            password_hash = await services.hasher.hash(PASSWORD)
            await services.stores.users.create(
                "alice", role=Role.USER.value, password_hash=password_hash, now=0.0
            )

        with client.portal() as portal:
            portal.call(seed)
        return Service(client, services)

    yield start
    for client, stores in opened:
        if stores is not None:
            with client.portal() as portal:
                portal.call(stores.shutdown)
        client.__exit__(None, None, None)


# --- addresses -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "group"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1::/56"),
        ("2001:DB8:1:2ff::1", "2001:db8:1:200::/56"),
        ("::ffff:192.0.2.7", "192.0.2.7"),  # IPv4-mapped
        ("2002:c000:0207::1", "192.0.2.7"),  # 6to4
        ("64:ff9b::192.0.2.7", "192.0.2.7"),  # NAT64, the well-known prefix
        ("64:ff9b::c000:207", "192.0.2.7"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "192.0.2.45"),  # Teredo: the client's public IPv4 (RFC 4380)
        ("64:ff9b:1::c000:207", "64:ff9b:1::/56"),  # the local-use NAT64 prefix: where the IPv4 sits varies
        ("fe80::1%eth0", "fe80::/56"),
        ("testclient", "testclient"),
        (None, "-"),
    ],
)
def test_addresses_are_grouped_ipv4_alone_ipv6_by_56_and_ipv6_carrying_ipv4_as_ipv4(
    host: str | None, group: str
) -> None:
    assert address_group(host) == group


@pytest.mark.parametrize(
    ("prefix", "group"), [(48, "2001:db8:1::/48"), (56, "2001:db8:1:200::/56"), (64, "2001:db8:1:2ff::/64")]
)
def test_the_ipv6_grouping_follows_the_setting(prefix: int, group: str) -> None:
    assert address_group("2001:db8:1:2ff::1", ipv6_prefix=prefix) == group


# --- per address ---------------------------------------------------------------------------------


def test_one_address_cannot_spray_user_names(open_service, clock) -> None:
    service = open_service(login_address_rate_limit=RateLimit(count=5, period=60))
    sprayed = service.statuses([(f"user{i}", "Winter2026!", "198.51.100.9") for i in range(6)])
    assert sprayed == [401] * 5 + [429]
    limited = service.login("alice", PASSWORD, "198.51.100.9")
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"
    assert limited.headers["retry-after"] == "60"
    assert service.login("alice", PASSWORD, "198.51.100.10").status_code == 200  # another address
    clock.advance(60)
    assert service.login("alice", PASSWORD, "198.51.100.9").status_code == 200


def test_an_ipv6_56_is_one_address(open_service) -> None:
    """A subscriber's /56 holds 256 /64s: moving to the next /64 does not reset the count."""
    service = open_service(login_address_rate_limit=RateLimit(count=3, period=60))
    same_56 = [f"2001:db8:5:{i:x}::1" for i in range(4)]  # four /64s of 2001:db8:5::/56
    assert service.statuses([(f"user{i}", "guess", peer) for i, peer in enumerate(same_56)]) == [401] * 3 + [
        429
    ]
    assert service.login("user9", "guess", "2001:db8:5:ff::1").status_code == 429  # its last /64
    assert service.login("user9", "guess", "2001:db8:5:100::1").status_code == 401  # the next /56


def test_the_ipv6_grouping_is_a_setting(open_service) -> None:
    service = open_service(login_address_rate_limit=RateLimit(count=1, period=60), login_ipv6_prefix=64)
    assert service.statuses([("u1", "guess", "2001:db8:5:1::1"), ("u2", "guess", "2001:db8:5:2::1")]) == [
        401,
        401,
    ]
    assert service.login("u3", "guess", "2001:db8:5:1::2").status_code == 429  # the same /64


def test_ipv6_addresses_that_carry_an_ipv4_address_share_its_counter(open_service) -> None:
    """IPv4-mapped, 6to4, NAT64 and Teredo forms of 192.0.2.44 are one address with 192.0.2.44."""
    service = open_service(login_address_rate_limit=RateLimit(count=4, period=60))
    peers = ["192.0.2.44", "::ffff:192.0.2.44", "2002:c000:022c::1", "64:ff9b::192.0.2.44"]
    assert service.statuses([(f"u{i}", "guess", peer) for i, peer in enumerate(peers)]) == [401] * 4
    assert service.login("u9", "guess", "::ffff:c000:22c").status_code == 429
    assert service.login("u9", "guess", "192.0.2.45").status_code == 401  # another IPv4 address


def test_successful_logins_do_not_count_against_the_address(open_service) -> None:
    service = open_service(login_address_rate_limit=RateLimit(count=2, period=60))
    assert service.statuses([("alice", PASSWORD, "203.0.113.5")] * 5) == [200] * 5
    assert service.statuses([("alice", "typo", "203.0.113.5")] * 3) == [401, 401, 429]


# --- per account ---------------------------------------------------------------------------------


def test_one_account_cannot_be_guessed_from_many_addresses(open_service, clock) -> None:
    service = open_service(login_account_rate_limit=RateLimit(count=4, period=3600))
    guesses = service.statuses([("alice", f"guess-{i}", f"10.{i}.0.1") for i in range(5)])
    assert guesses == [401] * 4 + [429]
    limited = service.login("ALICE", PASSWORD, "10.99.0.1")  # the case-folded name, a fresh address
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "3600"
    assert service.login("bob", "guess", "10.99.0.1").status_code == 401  # other accounts are unaffected
    clock.advance(3600)
    assert service.login("alice", PASSWORD, "10.99.0.1").status_code == 200


def test_an_unknown_user_name_is_limited_like_an_existing_one(open_service) -> None:
    """A limit only existing accounts could reach would tell which names exist."""
    service = open_service(login_account_rate_limit=RateLimit(count=3, period=3600))
    for name in ("alice", "nobody"):
        attempts = [(name, "guess", f"10.0.{i}.1") for i in range(4)]
        assert service.statuses(attempts) == [401] * 3 + [429], name


def test_the_users_own_successful_logins_do_not_count_against_the_account(open_service) -> None:
    service = open_service(login_account_rate_limit=RateLimit(count=2, period=3600))
    assert service.statuses([("alice", PASSWORD, f"10.1.{i}.1") for i in range(5)]) == [200] * 5
    assert service.statuses([("alice", "typo", "10.2.0.1")] * 3) == [401, 401, 429]


# --- before any argon2 work, and the bounded queue ------------------------------------------------


def test_a_throttled_login_does_no_argon2_work(open_service, monkeypatch) -> None:
    service = open_service(login_address_rate_limit=RateLimit(count=1, period=60))
    assert service.login("alice", "guess", "192.0.2.1").status_code == 401
    hashed: list[bytes] = []
    real = low_level.verify_secret

    def counted(encoded: bytes, secret: bytes, kind: Any) -> Any:
        hashed.append(encoded)
        return real(encoded, secret, kind)

    monkeypatch.setattr(low_level, "verify_secret", counted)
    assert service.login("alice", PASSWORD, "192.0.2.1").status_code == 429
    assert hashed == []
    assert service.login("alice", PASSWORD, "192.0.2.2").status_code == 200
    assert [extract_parameters(h.decode()).time_cost for h in hashed] == [1]  # the spy does see checks


SLOW_ARGON2 = Argon2Params(time_cost=12, memory_cost=16384, parallelism=1)
"""About 0.2 s a hash here: long enough that a request arrives while another check holds the slot."""


def test_past_the_argon2_queue_a_login_answers_503_with_retry_after(open_service) -> None:
    service = open_service(argon2=SLOW_ARGON2, argon2_queue=0, **OFF_LIMITS)
    hasher = service.services.hasher
    assert hasher.slots == 1 or pytest.skip("needs a single hashing slot (a 2-core machine)")
    with service.client.portal() as portal:
        holding = portal.start_task_soon(hasher.verify, None, "someone else's guess")
        busy = service.login("alice", PASSWORD, "192.0.2.1")
        holding.result(timeout=30)
    assert busy.status_code == 503
    assert busy.json() == {
        "status_code": 503,
        "detail": "too many logins in progress; try again later",
        "code": "login_busy",
    }
    assert int(busy.headers["retry-after"]) >= 1
    assert "set-cookie" not in busy.headers
    assert service.login("alice", PASSWORD, "192.0.2.1").status_code == 200


def test_within_the_argon2_queue_logins_wait_their_turn(open_service) -> None:
    service = open_service(argon2=SLOW_ARGON2, argon2_queue=2, **OFF_LIMITS)
    results: list[int] = []

    def log_in(i: int) -> None:
        results.append(service.login("alice", PASSWORD, f"192.0.2.{i}").status_code)

    threads = [threading.Thread(target=log_in, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == [200, 200]


def test_a_login_from_a_clean_address_takes_the_queue_place_of_a_failing_one(open_service) -> None:
    """The argon2 queue is full with a check from an address that failed 5 times: a login from an address
    that never failed takes its place (the failing one gets 503), so a flood does not delay the user."""
    service = open_service(argon2=SLOW_ARGON2, argon2_queue=1, login_account_rate_limit=None)
    for _ in range(4):
        assert service.login("mallory", "guess", "198.51.100.66").status_code == 401
    hasher = service.services.hasher
    assert hasher.slots == 1 or pytest.skip("needs a single hashing slot (a 2-core machine)")
    with service.client.portal() as portal:
        running = portal.start_task_soon(hasher.verify, None, "someone else's guess")
        attacker: list[Any] = []
        thread = threading.Thread(
            target=lambda: attacker.append(service.login("mallory", "guess", "198.51.100.66"))
        )
        thread.start()
        deadline = time.monotonic() + 10
        while not hasher._waiting and time.monotonic() < deadline:  # the attacker's check is queued
            time.sleep(0.005)
        user = service.login("alice", PASSWORD, "192.0.2.80")
        thread.join(timeout=30)
        running.result(timeout=30)
    assert user.status_code == 200
    assert attacker[0].status_code == 503
    assert attacker[0].json()["code"] == "login_busy"


# --- refusals remembered in the process -----------------------------------------------------------


class CountingLimiter:
    """A real SQL limiter that counts the round trips made to it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.hits = 0

    async def hit(self, key: str, *, limit: int, period: int, now: float) -> int:
        self.hits += 1
        return int(await self.inner.hit(key, limit=limit, period=period, now=now))

    async def hit_all(self, hits: Any, *, now: float) -> tuple[Window, ...]:
        self.hits += 1
        return tuple(await self.inner.hit_all(hits, now=now))

    async def refund(self, windows: Any) -> None:
        await self.inner.refund(windows)


def test_a_refused_address_is_refused_from_memory_until_its_window_ends(
    tmp_path: Path, base: Settings
) -> None:
    settings = replace(base, login_address_rate_limit=RateLimit(count=2, period=60))

    async def main() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'limits.db'}")
        await create_schema(engine)
        limiter = CountingLimiter(SqlRateLimiter(engine))
        throttle = LoginThrottle(settings, limiter)
        try:
            for i in range(2):
                await throttle.begin(username=f"u{i}", host="192.0.2.9", now=1000.0)
            with pytest.raises(RateLimited):
                await throttle.begin(username="u2", host="192.0.2.9", now=1000.0)
            trips = limiter.hits
            for i in range(50):
                with pytest.raises(RateLimited) as refused:
                    await throttle.begin(username=f"flood{i}", host="192.0.2.9", now=1030.0)
                assert refused.value.retry_after == 30
            assert limiter.hits == trips  # no round trip for the flood
            await throttle.begin(username="u3", host="192.0.2.10", now=1030.0)  # other addresses: the store
            assert limiter.hits > trips
            await throttle.begin(username="u4", host="192.0.2.9", now=1060.0)  # the window has ended
        finally:
            await engine.dispose()

    asyncio.run(main())


def test_an_address_ranks_by_its_attempts_before_the_store_has_answered(base) -> None:
    """With the store slow to answer (a busy database), a flooding address must not keep the rank of a
    fresh one in the argon2 queue: each attempt counts in the process at once."""

    class SlowLimiter:
        def __init__(self) -> None:
            self.gate = asyncio.Event()
            self.count = 0

        async def hit_all(self, hits: Any, *, now: float) -> tuple[Window, ...]:
            self.count += 1
            seen = self.count
            await self.gate.wait()
            return tuple(Window(hit.key, now, now + hit.period, seen) for hit in hits)

        async def refund(self, windows: Any) -> None:
            return None

    async def main() -> tuple[int, int]:
        limiter = SlowLimiter()
        throttle = LoginThrottle(base, limiter)  # type: ignore[arg-type]
        pending = [
            asyncio.create_task(throttle.begin(username=f"u{i}", host="198.51.100.1", now=0.0))
            for i in range(5)
        ]
        await asyncio.sleep(0)
        during = throttle.failures_of(address_key("198.51.100.1"))
        limiter.gate.set()
        attempts = await asyncio.gather(*pending)
        return during, attempts[0].priority()

    during, after = asyncio.run(main())
    assert during == 5
    assert after == 5
