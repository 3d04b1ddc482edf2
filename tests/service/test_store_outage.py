"""A store outage: login and refresh fail closed with 503, /health says which store, and GET /me keeps
working because access tokens are verified without any store."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from litestar.testing import TestClient

from formats import Claims, Kind
from service.app import create_app
from service.auth.credentials import HOST_REFRESH_COOKIE
from service.auth.roles import Role, permissions_of
from service.settings import Secret
from service.stores import open_stores
from tests.service.conftest import CSRF


async def nothing() -> None:
    return None


OUTAGES = {
    "database": {"database_url": Secret("postgresql+asyncpg://postgres@127.0.0.1:1/test")},
    "redis": {"redis_url": Secret("redis://127.0.0.1:1/0")},
}


@pytest.mark.parametrize("down", list(OUTAGES))
def test_store_outage_fails_login_and_refresh_closed_but_not_me(settings, clock, down: str) -> None:
    broken = replace(settings, **OUTAGES[down])
    stores = open_stores(broken)
    if down == "database":
        stores = replace(stores, startup=nothing)  # the schema cannot be created either
    app = create_app(broken, stores=stores, clock=clock)
    fmt = app.state.services.fmt
    now = clock()
    access = fmt.issue(
        Claims(
            sub="alice",
            role="user",
            perms=permissions_of(Role.USER),
            iat=now,
            exp=now + timedelta(minutes=15),
            jti="a-1",
            iss=settings.issuer,
            aud=settings.audience,
        ),
        kind=Kind.ACCESS,
    )
    refresh = fmt.issue(
        Claims(
            sub="alice",
            role="user",
            iat=now,
            exp=now + timedelta(days=1),
            jti="r-1",
            iss=settings.issuer,
            aud=settings.audience,
            fam="fam-1",
            ver=0,
        ),
        kind=Kind.REFRESH,
    )
    with TestClient(app, base_url="https://tokenbench.test") as client:
        client.headers.update(CSRF)
        login = client.post("/auth/login", json={"username": "alice", "password": "alice-password-1"})
        assert login.status_code == 503
        assert login.json()["code"] == "store_unavailable"
        assert "retry-after" in login.headers

        cookie = HOST_REFRESH_COOKIE  # https, TOKENBENCH_COOKIE_SECURE at its default
        client.cookies.set(cookie.name, refresh, domain="tokenbench.test", path=cookie.path)
        if down == "redis":
            with client.portal() as portal:
                portal.call(lambda: stores.users.create("alice", role="user", password_hash="x", now=0.0))
        refreshed = client.post("/auth/refresh")
        assert refreshed.status_code == 503
        assert refreshed.json()["code"] == "store_unavailable"

        me = client.get("/me", headers={"Authorization": f"Bearer {access}"})
        assert me.status_code == 200
        assert me.json()["username"] == "alice"

        health = client.get("/health")
        assert health.status_code == 503
        body = health.json()
        assert body["status"] == "unavailable"
        assert body["database" if down == "database" else "sessions"] == "unavailable"
        if down == "redis":
            assert body["database"] == "ok"
            assert body["backends"]["sessions"] == "redis"
        with client.portal() as portal:
            portal.call(stores.shutdown)
