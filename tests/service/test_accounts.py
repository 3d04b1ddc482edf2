"""The account rules (``service/accounts.py``) over HTTP: the user's current state decides.

* a login in flight (past its user read, waiting for argon2) while the password is reset, the user deleted
  or demoted gets no session and cannot rehash the old password back, on SQLite, PostgreSQL and Redis;
* admin writes check the caller's current role; the last admin can be neither demoted nor deleted;
* a role change whose revocation failed completes when repeated.

The in-flight window is made deterministic with the attack suite's :class:`ObservedUserStore`: the real
store, with one change armed to run right after the login's read of the user.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import event

from formats import FormatName, Kind
from service.accounts import Accounts
from service.app import create_app
from service.attacks.inprocess import ObservedUserStore
from service.auth.credentials import HOST_REFRESH_COOKIE
from service.auth.roles import Role
from service.passwords import PasswordHasher
from service.services import Services
from service.settings import Argon2Params, RateLimit, Secret, Settings
from service.stores import StoreUnavailable, open_stores
from service.stores.sql import SqlSessionStore, create_engine
from tests.service.conftest import CSRF, STORE_BACKENDS, on_backend

T = TypeVar("T")
OLD_PASSWORD = "alice-password-1"


@dataclass
class Deployment:
    """The service on one backend, its services, and the observed user store."""

    client: TestClient[Litestar]
    services: Services
    users: ObservedUserStore

    def run(self, fn: Callable[[], Awaitable[T]]) -> T:
        with self.client.portal() as portal:
            return portal.call(fn)

    def login(self, username: str, password: str) -> httpx.Response:
        self.client.cookies.clear()
        return self.client.post("/auth/login", json={"username": username, "password": password})

    def refresh(self, token: str) -> httpx.Response:
        self.client.cookies.clear()
        cookie = HOST_REFRESH_COOKIE  # https, TOKENBENCH_COOKIE_SECURE at its default
        self.client.cookies.set(cookie.name, token, domain="tokenbench.test", path=cookie.path)
        return self.client.post("/auth/refresh", headers=CSRF)


@pytest.fixture(params=STORE_BACKENDS)
def deployment(
    request: pytest.FixtureRequest, tmp_path: Path, policy, cheap_argon2, clock
) -> Iterator[Deployment]:
    """paseto-v4-local (the format does not matter here) with users ``admin``, ``keeper`` and ``alice``."""
    settings = Settings(
        format=FormatName.PASETO_V4_LOCAL,
        database_url=Secret(f"sqlite+aiosqlite:///{tmp_path / 'users.db'}"),
        keys_dir=tmp_path / "keys",
        issuer=policy.issuer,
        audience=policy.audience,
        argon2=cheap_argon2,
        login_rate_limit=RateLimit(count=1000, period=60),
    )
    settings, injected = on_backend(request, request.param, settings)
    stores = injected or open_stores(settings)
    users = ObservedUserStore(stores.users)
    app = create_app(settings, stores=replace(stores, users=users), clock=clock)
    with TestClient(app, base_url="https://tokenbench.test") as client:
        deployment = Deployment(client, app.state.services, users)
        accounts = deployment.services.accounts

        async def seed() -> None:
            await accounts.ensure("admin", role=Role.ADMIN, password="admin-password-1")
            await accounts.ensure("keeper", role=Role.ADMIN, password="keeper-password-1")
            await accounts.ensure("alice", role=Role.ADMIN, password=OLD_PASSWORD)

        deployment.run(seed)
        yield deployment
        deployment.run(stores.shutdown)


def _outdated_hash(deployment: Deployment) -> None:
    """Alice's hash as made before the argon2 parameters changed (the login will want to rehash it)."""
    older = PasswordHasher(Argon2Params(time_cost=2, memory_cost=8, parallelism=1))

    async def store() -> None:
        await deployment.services.stores.users.set_password_hash("alice", await older.hash(OLD_PASSWORD))

    deployment.run(store)


CHANGES: dict[str, Callable[[Accounts], Awaitable[object]]] = {
    "set-password": lambda accounts: accounts.set_password("alice", "alice-password-2"),
    "delete": lambda accounts: accounts.delete("alice"),
    "role change": lambda accounts: accounts.set_role("alice", Role.USER),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_login_waiting_for_argon2_during_a_change_gets_no_session(
    deployment: Deployment, change: str
) -> None:
    """The change lands after the login read the user and before its password check (the argon2 queue)."""
    _outdated_hash(deployment)
    deployment.users.after_next_read("alice", lambda: CHANGES[change](deployment.services.accounts))

    response = deployment.login("alice", OLD_PASSWORD)

    assert response.status_code == 401, response.text
    assert response.json()["code"] == "invalid_credentials"
    assert "set-cookie" not in response.headers
    after = deployment.login("alice", OLD_PASSWORD)
    if change == "role change":  # the password did not change; the next login carries the new role
        assert after.status_code == 200
        claims = deployment.services.fmt.verify(after.json()["access_token"], kind=Kind.ACCESS)
        assert claims.role == "user"
    else:  # the in-flight login did not rehash the old password over the change
        assert after.status_code == 401
    if change == "set-password":
        assert deployment.login("alice", "alice-password-2").status_code == 200


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_change_between_the_last_read_and_the_session_start_still_wins(
    deployment: Deployment, change: str
) -> None:
    """The change lands after the login's second read: only the session generation can refuse it."""
    deployment.users.after_next_read("alice", lambda: CHANGES[change](deployment.services.accounts), skip=1)

    response = deployment.login("alice", OLD_PASSWORD)

    assert response.status_code == 401, response.text
    assert response.json()["code"] == "invalid_credentials"
    assert "set-cookie" not in response.headers


def test_two_logins_rehashing_the_same_password_both_get_a_session(deployment: Deployment) -> None:
    """The other login's rehash lands during this one's argon2 wait: a changed hash that still matches."""
    _outdated_hash(deployment)
    services = deployment.services

    async def other_login_rehashes() -> None:
        stored = await services.stores.users.get("alice")
        assert stored is not None
        rehashed = await services.hasher.hash(OLD_PASSWORD)
        assert await services.stores.users.replace_password_hash(
            "alice", old=stored.password_hash, new=rehashed
        )

    deployment.users.after_next_read("alice", other_login_rehashes)

    response = deployment.login("alice", OLD_PASSWORD)

    assert response.status_code == 200, response.text


def test_an_unchanged_login_still_rehashes_and_starts_a_session(deployment: Deployment) -> None:
    _outdated_hash(deployment)
    response = deployment.login("alice", OLD_PASSWORD)
    assert response.status_code == 200, response.text
    stored = deployment.run(lambda: deployment.services.stores.users.get("alice"))
    assert stored is not None
    assert stored.password_hash.startswith("$argon2id$v=19$m=8,t=1,p=1$")


# --- admin writes: the caller's current role ----------------------------------------------------------


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _token(api, username: str, password: str) -> str:
    response = api.login(username, password)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def test_a_demoted_admin_keeps_no_write_power(api) -> None:
    api.add_user("bob", "bob-password-1", Role.ADMIN)
    token = api.token_as("admin")
    changed = api.client.patch(
        "/admin/users/admin", headers=_bearer(_token(api, "bob", "bob-password-1")), json={"role": "user"}
    )
    assert changed.status_code == 200

    attempts = [
        api.client.post(
            "/admin/users",
            headers=_bearer(token),
            json={"username": "mallory", "password": "mallory-password", "role": "admin"},
        ),
        api.client.patch("/admin/users/admin", headers=_bearer(token), json={"role": "admin"}),
        api.client.patch("/admin/users/bob", headers=_bearer(token), json={"role": "user"}),
    ]

    for response in attempts:
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "role_revoked"
        assert response.headers["www-authenticate"] == 'Bearer error="insufficient_scope"'
    roles = {user.username: user.role for user in api.run(api.services.stores.users.list)}
    assert roles == {"admin": "user", "alice": "user", "bob": "admin"}
    # reads stay stateless: the token still lists users until it expires (docs/service.md)
    assert api.client.get("/admin/users", headers=_bearer(token)).status_code == 200


def test_a_deleted_admin_keeps_no_write_power(api) -> None:
    api.add_user("bob", "bob-password-1", Role.ADMIN)
    token = _token(api, "bob", "bob-password-1")
    api.run(lambda: api.services.accounts.delete("bob"))

    response = api.client.post(
        "/admin/users",
        headers=_bearer(token),
        json={"username": "bob", "password": "bob-password-2", "role": "admin"},
    )

    assert response.status_code == 403
    assert response.json()["code"] == "role_revoked"
    assert api.run(lambda: api.services.stores.users.get("bob")) is None


def test_the_last_admin_cannot_demote_itself(api) -> None:
    response = api.client.patch("/admin/users/admin", headers=api.bearer("admin"), json={"role": "user"})
    assert response.status_code == 409
    assert response.json()["code"] == "last_admin"
    assert api.run(lambda: api.services.stores.users.get("admin")).role == "admin"


def test_two_admins_demoting_each_other_at_once_leave_one_admin(api) -> None:
    api.add_user("bob", "bob-password-1", Role.ADMIN)
    tokens = {"admin": api.token_as("admin"), "bob": _token(api, "bob", "bob-password-1")}

    async def both() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=api.client.app)
        async with httpx.AsyncClient(transport=transport, base_url=str(api.client.base_url)) as client:
            return list(
                await asyncio.gather(
                    client.patch("/admin/users/bob", headers=_bearer(tokens["admin"]), json={"role": "user"}),
                    client.patch("/admin/users/admin", headers=_bearer(tokens["bob"]), json={"role": "user"}),
                )
            )

    statuses = sorted(response.status_code for response in api.run(both))
    assert statuses in ([200, 403], [200, 409])
    admins = [user.username for user in api.run(api.services.stores.users.list) if user.role == "admin"]
    assert len(admins) == 1


# --- a role change completes when repeated ------------------------------------------------------------


def test_a_role_change_whose_revocation_failed_revokes_when_repeated(api) -> None:
    api.login_as("alice")
    session = api.refresh_cookie
    assert session is not None
    unreachable = SqlSessionStore(create_engine("postgresql+asyncpg://postgres@127.0.0.1:9/none"))
    half = Accounts(stores=replace(api.services.stores, sessions=unreachable), hasher=api.services.hasher)

    async def change_half_way() -> None:
        with pytest.raises(StoreUnavailable):
            await half.set_role("alice", Role.ADMIN)

    api.run(change_half_way)
    assert api.run(lambda: api.services.stores.users.get("alice")).role == "admin"

    retry = api.client.patch("/admin/users/alice", headers=api.bearer("admin"), json={"role": "admin"})

    assert retry.status_code == 200
    api.set_refresh_cookie(session)
    response = api.client.post("/auth/refresh")
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"


# --- user names are case-insensitive --------------------------------------------------------------------


def test_user_names_are_case_insensitive_for_creation_login_and_admin_writes(deployment: Deployment) -> None:
    """``Bob`` is stored as ``bob``; ``BOB`` can be neither created beside it nor taken for another user."""
    admin = _bearer(_token(deployment, "admin", "admin-password-1"))
    client = deployment.client
    created = client.post(
        "/admin/users", headers=admin, json={"username": "Bob", "password": "bob-password-1", "role": "user"}
    )
    assert created.status_code == 201, created.text
    assert created.json()["username"] == "bob"
    for variant in ("bob", "BOB", "bOb"):
        again = client.post(
            "/admin/users",
            headers=admin,
            json={"username": variant, "password": "other-password", "role": "admin"},
        )
        assert again.status_code == 409, variant
    names = [user["username"] for user in client.get("/admin/users", headers=admin).json()]
    assert names.count("bob") == 1
    assert not [name for name in names if name != name.lower()]

    for spelling in ("BOB", "Bob", "bob"):
        response = deployment.login(spelling, "bob-password-1")
        assert response.status_code == 200, (spelling, response.text)
        claims = deployment.services.fmt.verify(response.json()["access_token"], kind=Kind.ACCESS)
        assert claims.sub == "bob"
    refreshed = deployment.refresh(deployment.client.cookies[HOST_REFRESH_COOKIE.name])
    assert refreshed.status_code == 200, refreshed.text
    refresh_token = deployment.client.cookies[HOST_REFRESH_COOKIE.name]
    assert deployment.login("BOB", "other-password").status_code == 401

    changed = client.patch("/admin/users/BOB", headers=admin, json={"role": "admin"})
    assert changed.status_code == 200, changed.text
    assert changed.json() == {**changed.json(), "username": "bob", "role": "admin"}
    assert deployment.refresh(refresh_token).status_code == 401  # bob's sessions ended with the change


# --- refresh: the user's state as of the rotation ---------------------------------------------------------


def test_a_refresh_carries_the_role_the_user_holds_when_it_rotates(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A demotion committed just before the rotation (its revocation not yet run) is what the new access
    token carries: the role is read in the rotation's own transaction (SQL) or after it (Redis), never
    before it."""
    assert deployment.login("alice", OLD_PASSWORD).status_code == 200
    presented = deployment.client.cookies[HOST_REFRESH_COOKIE.name]
    sessions, users = deployment.services.stores.sessions, deployment.services.stores.users
    rotate = sessions.rotate

    async def demoted_first(*args: object, **kwargs: object) -> object:
        await users.set_role("alice", Role.USER.value)
        return await rotate(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sessions, "rotate", demoted_first)
    refreshed = deployment.refresh(presented)
    assert refreshed.status_code == 200, refreshed.text
    claims = deployment.services.fmt.verify(refreshed.json()["access_token"], kind=Kind.ACCESS)
    assert claims.role == "user"


def test_a_refresh_whose_user_is_gone_revokes_the_family(deployment: Deployment) -> None:
    assert deployment.login("alice", OLD_PASSWORD).status_code == 200
    presented = deployment.client.cookies[HOST_REFRESH_COOKIE.name]
    family = deployment.services.fmt.verify(presented, kind=Kind.REFRESH).fam
    assert family is not None
    deployment.run(lambda: deployment.services.stores.users.delete("alice"))  # its revocation not yet run
    refused = deployment.refresh(presented)
    assert refused.status_code == 401
    assert refused.json()["code"] == "token_revoked"
    record = deployment.run(lambda: deployment.services.stores.sessions.get(family))
    assert record is not None
    assert record.revoked_at is not None


def test_a_refresh_on_sqlite_is_one_transaction_of_one_statement(api) -> None:
    """The winner's rotation reads the user in its own UPDATE: BEGIN IMMEDIATE and one UPDATE, one commit
    (it was two transactions of one statement each, 18 aiosqlite round trips instead of 9)."""
    api.login_as("alice")
    engine = api.services.stores.users._engine
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement.split(maxsplit=1)[0])

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        refreshed = api.client.post("/auth/refresh")
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    assert refreshed.status_code == 200, refreshed.text
    assert statements == ["BEGIN", "UPDATE"]
