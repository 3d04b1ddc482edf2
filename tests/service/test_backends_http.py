"""The same service code on the scale-out backends: users and sessions on PostgreSQL, then sessions and
rate limits on Redis. One format is enough here (the format suites run on SQLite); what is under test is
that the HTTP behaviour does not depend on the backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from formats import FormatName, Kind
from service.app import create_app
from service.auth.credentials import HOST_REFRESH_COOKIE
from service.auth.roles import Role
from service.settings import RateLimit, Secret, Settings
from tests.service.conftest import CSRF, on_backend


@pytest.fixture
def base(tmp_path: Path, policy, cheap_argon2) -> Settings:
    return Settings(
        format=FormatName.PASETO_V4_LOCAL,
        database_url=Secret(f"sqlite+aiosqlite:///{tmp_path / 'users.db'}"),
        keys_dir=tmp_path / "keys",
        issuer=policy.issuer,
        audience=policy.audience,
        argon2=cheap_argon2,
        login_rate_limit=RateLimit(count=5, period=60),
    )


@pytest.fixture(params=["postgresql", "redis"])
def client(request: pytest.FixtureRequest, base: Settings, clock) -> Iterator[tuple[TestClient, object]]:
    settings, stores = on_backend(request, request.param, base)
    app = create_app(settings, stores=stores, clock=clock)
    services = app.state.services
    with TestClient(app, base_url="https://tokenbench.test") as test_client:
        test_client.headers.update(CSRF)
        with test_client.portal() as portal:

            async def seed() -> None:
                for name in ("alice", "admin"):
                    if await services.stores.users.get(name) is None:
                        role = Role.ADMIN if name == "admin" else Role.USER
                        await services.stores.users.create(
                            name,
                            role=role.value,
                            password_hash=await services.hasher.hash(f"{name}-password"),
                            now=0.0,
                        )

            portal.call(seed)
        yield test_client, services
        if stores is not None:
            with test_client.portal() as portal:
                portal.call(stores.shutdown)


def login(test_client: TestClient, name: str):
    return test_client.post("/auth/login", json={"username": name, "password": f"{name}-password"})


COOKIE = HOST_REFRESH_COOKIE  # the apps here are https with TOKENBENCH_COOKIE_SECURE at its default


def refresh_cookie(test_client: TestClient) -> str:
    return test_client.cookies.get(COOKIE.name, domain="tokenbench.test", path=COOKIE.path)


def refresh_with(test_client: TestClient, token: str):
    test_client.cookies.clear()
    test_client.cookies.set(COOKIE.name, token, domain="tokenbench.test", path=COOKIE.path)
    return test_client.post("/auth/refresh")


def test_rotation_grace_and_reuse_behave_the_same(client, clock) -> None:
    test_client, services = client
    assert login(test_client, "alice").status_code == 200
    original = refresh_cookie(test_client)
    assert test_client.post("/auth/refresh").status_code == 200
    successor = refresh_cookie(test_client)

    clock.advance(5)
    retry = refresh_with(test_client, original)
    assert retry.status_code == 200
    assert refresh_cookie(test_client) == successor

    clock.advance(6)
    reuse = refresh_with(test_client, original)
    assert reuse.status_code == 401
    assert reuse.json()["code"] == "token_revoked"
    assert refresh_with(test_client, successor).status_code == 401
    family = services.fmt.verify(successor, kind=Kind.REFRESH).fam
    with test_client.portal() as portal:
        assert portal.call(services.stores.sessions.get, family).revoked_at is not None


def test_logout_all_and_role_change_revoke(client) -> None:
    test_client, _ = client
    login(test_client, "alice")
    first = refresh_cookie(test_client)
    access = login(test_client, "alice").json()["access_token"]
    second = refresh_cookie(test_client)
    response = test_client.post("/auth/logout-all", headers={"Authorization": f"Bearer {access}"})
    assert response.status_code == 204
    assert refresh_with(test_client, first).status_code == 401
    assert refresh_with(test_client, second).status_code == 401

    login(test_client, "alice")
    session = refresh_cookie(test_client)
    admin = login(test_client, "admin").json()["access_token"]
    changed = test_client.patch(
        "/admin/users/alice", headers={"Authorization": f"Bearer {admin}"}, json={"role": "admin"}
    )
    assert changed.status_code == 200
    assert refresh_with(test_client, session).status_code == 401


def test_login_rate_limit_is_shared_state(client) -> None:
    test_client, _ = client
    statuses = [
        test_client.post("/auth/login", json={"username": "carol", "password": "guess"}).status_code
        for _ in range(6)
    ]
    assert statuses == [401] * 5 + [429]


def test_login_with_a_name_that_casefolds_long_is_refused_not_unavailable(client) -> None:
    """ "ﬃ".casefold() is "ffi": such a name never reaches the rate-limit key or a store, the user-name rule
    refuses it first (400, never 503)."""
    test_client, _ = client
    response = test_client.post("/auth/login", json={"username": "\ufb03" * 256, "password": "guess"})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_request"
