"""Switching the issued format on a deployment with live sessions (``TOKENBENCH_ACCEPT_FORMATS``).

Each test runs the service twice on one database and one key directory, as an operator does: first
issuing the old format, then issuing the new one while accepting the old. The refresh family's state
machine across the switch runs on SQLite, PostgreSQL and Redis; the HTTP contract of the window runs for
every ordered pair of formats on SQLite.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import secrets
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from itertools import permutations
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from formats import FORMATS, FormatName, Kind, ephemeral
from formats._jwt_common import jwk_thumbprint
from formats.claims import utc_now
from formats.keys import generate_key_file
from formats.migration import token_label
from service.app import create_app
from service.auth.credentials import RefreshCookie
from service.auth.roles import Role
from service.cli import main
from service.migration import SeenReporter, load_window
from service.services import Services
from service.settings import Environment, Secret, Settings, SettingsError
from service.stores import Stores, open_stores
from tests.service.conftest import BASE_URL, PASSWORDS, redis_stores, wipe

PAIRS = list(permutations(FormatName, 2))
CSRF = {"X-Requested-With": "tokenbench"}
"""Sent on the cookie routes, as the teaching page's script does (ignored where no CSRF check runs)."""
PAIR_IDS = [f"{old.value}->{new.value}" for old, new in PAIRS]


@pytest.fixture
def format_name() -> FormatName:
    """The first format of ``settings``; each test sets the formats it switches between."""
    return FormatName.PASETO_V4_PUBLIC


@dataclass
class Deployment:
    """One run of the service: a test client and the app's services."""

    client: TestClient[Litestar]
    services: Services

    def login(self, username: str = "alice") -> httpx.Response:
        response = self.client.post(
            "/auth/login", json={"username": username, "password": PASSWORDS[username]}
        )
        assert response.status_code == 200, response.text
        return response

    @property
    def _cookie(self) -> RefreshCookie:
        return RefreshCookie.of(secure=self.services.settings.cookie_secure)

    @property
    def cookie(self) -> str:
        value = self.client.cookies.get(self._cookie.name, domain="tokenbench.test", path=self._cookie.path)
        assert value is not None
        return value

    def _set(self, token: str) -> None:
        self.client.cookies.clear()
        self.client.cookies.set(self._cookie.name, token, domain="tokenbench.test", path=self._cookie.path)

    def refresh(self, token: str) -> httpx.Response:
        self._set(token)
        return self.client.post("/auth/refresh", headers=CSRF)

    def logout(self, token: str) -> httpx.Response:
        self._set(token)
        return self.client.post("/auth/logout", headers=CSRF)

    def me(self, access: str) -> httpx.Response:
        return self.client.get("/me", headers={"Authorization": f"Bearer {access}"})


@pytest.fixture
def deploy(clock: Any) -> Iterator[Callable[..., Deployment]]:
    """``deploy(settings, stores=None)``: the service on ``settings``, until the next call or the end."""
    running: list[tuple[TestClient[Litestar], Stores | None]] = []

    def stop() -> None:
        while running:
            client, stores = running.pop()
            if stores is not None:
                with client.portal() as portal:
                    portal.call(stores.shutdown)
            client.__exit__(None, None, None)

    def start(settings: Settings, stores: Stores | None = None) -> Deployment:
        stop()
        app = create_app(settings, stores=stores, clock=clock)
        client = TestClient(app, base_url=BASE_URL)
        client.__enter__()
        running.append((client, stores))
        services: Services = app.state.services

        async def seed() -> None:
            for name, role in (("alice", Role.USER), ("admin", Role.ADMIN)):
                if await services.stores.users.get(name) is None:
                    password_hash = await services.hasher.hash(PASSWORDS[name])
                    await services.stores.users.create(
                        name, role=role.value, password_hash=password_hash, now=0
                    )

        with client.portal() as portal:
            portal.call(seed)
        return Deployment(client=client, services=services)

    yield start
    stop()


def keyed(settings: Settings, old: FormatName, new: FormatName) -> Settings:
    """``settings`` issuing ``old``, with a key for ``old`` and one for ``new`` in the key directory."""
    for name in (old, new):
        generate_key_file(settings.keys_dir, name)
    return replace(settings, format=old)


# --- every ordered pair, on SQLite -------------------------------------------------------------------------


@pytest.mark.parametrize(("old", "new"), PAIRS, ids=PAIR_IDS)
def test_a_switch_keeps_every_user_logged_in(
    settings: Settings, deploy: Callable[..., Deployment], old: FormatName, new: FormatName, clock: Any
) -> None:
    before = deploy(keyed(settings, old, new))
    access = before.login().json()["access_token"]
    refresh = before.cookie
    assert (token_label(access), token_label(refresh)) == (before.services.fmt.token_label,) * 2

    after = deploy(replace(settings, format=new, accept_formats=(old,)))
    assert after.me(access).status_code == 200  # the old access token verifies until it expires
    rotated = after.refresh(refresh)
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["format"] == new.value
    successor, new_access = after.cookie, rotated.json()["access_token"]
    assert token_label(successor) == token_label(new_access) == after.services.fmt.token_label
    claims = after.services.window.verify(successor, kind=Kind.REFRESH)
    assert claims.fam == before.services.fmt.verify(refresh, kind=Kind.REFRESH).fam  # the same family
    assert claims.ver == 1
    assert after.me(new_access).json()["username"] == "alice"
    assert token_label(after.login().json()["access_token"]) == after.services.fmt.token_label

    health = after.client.get("/health").json()
    assert health["format"] == new.value
    assert health["accepted"] == {
        old.value: {"access": 1, "refresh": 1, "last_seen": clock.now.strftime("%Y-%m-%dT%H:%M:%SZ")}
    }

    gone = deploy(replace(settings, format=new))  # after the window
    for token, kind in ((access, "me"), (refresh, "refresh")):
        response = gone.me(token) if kind == "me" else gone.refresh(token)
        assert response.status_code == 401
        assert response.json()["code"] == "token_malformed"
    assert gone.refresh(successor).status_code == 200


@pytest.mark.parametrize(("old", "new"), PAIRS, ids=PAIR_IDS)
def test_kind_binding_and_confusion_hold_in_the_window(
    settings: Settings, deploy: Callable[..., Deployment], old: FormatName, new: FormatName
) -> None:
    before = deploy(keyed(settings, old, new))
    access = before.login().json()["access_token"]
    refresh = before.cookie
    after = deploy(replace(settings, format=new, accept_formats=(old,)))

    as_access = after.me(refresh)
    assert (as_access.status_code, as_access.json()["code"]) == (401, "token_wrong_kind")
    as_refresh = after.refresh(access)
    assert (as_refresh.status_code, as_refresh.json()["code"]) == (401, "token_wrong_kind")
    claims = after.services.window.verify(after.login().json()["access_token"], kind=Kind.ACCESS)
    for other in FormatName:
        if other not in (old, new):  # a valid token of a format the window does not hold
            response = after.me(ephemeral(other).issue(claims, kind=Kind.ACCESS))
            assert (response.status_code, response.json()["code"]) == (401, "token_malformed")


@pytest.mark.parametrize(("old", "new"), PAIRS[:4], ids=PAIR_IDS[:4])
def test_a_rolling_switch_keeps_sessions_across_processes_in_both_phases(
    settings: Settings, deploy: Callable[..., Deployment], old: FormatName, new: FormatName, clock: Any
) -> None:
    """docs/migration.md's two phases: processes not yet switched accept the new format already."""
    phase_a = replace(keyed(settings, old, new), accept_formats=(new,))  # issue old, accept new
    phase_b = replace(settings, format=new, accept_formats=(old,))  # issue new, accept old
    first = deploy(phase_a)
    first.login()
    original = first.cookie

    switched = deploy(phase_b)  # a process already switched
    rotated = switched.refresh(original)
    assert rotated.status_code == 200, rotated.text
    new_access, new_refresh = rotated.json()["access_token"], switched.cookie
    assert token_label(new_refresh) == FORMATS[new].token_label

    behind = deploy(phase_a)  # a process not yet switched takes the new format's tokens
    assert behind.me(new_access).status_code == 200
    back = behind.refresh(new_refresh)
    assert back.status_code == 200, back.text
    assert token_label(behind.cookie) == FORMATS[old].token_label  # it issues the old format, same family
    family = behind.services.window.verify(behind.cookie, kind=Kind.REFRESH).fam
    assert family == behind.services.window.verify(original, kind=Kind.REFRESH).fam

    clock.advance(settings.refresh_grace + 1)
    again = deploy(phase_b)
    assert again.refresh(new_refresh).json()["code"] == "token_revoked"  # reuse across processes


def test_production_accepts_the_next_format_with_its_public_keys_before_it_issues(
    settings: Settings, tmp_path: Path
) -> None:
    """Phase one of docs/migration.md in production: the next format's public keys only, then the switch."""
    old, new = FormatName.JWT_HS256, FormatName.JWT_ES256
    generate_key_file(settings.keys_dir, old)
    staged = generate_key_file(tmp_path / "staging", new)  # the new private key, kept aside
    live = settings.keys_dir / new.value / staged.path.name
    live.parent.mkdir(parents=True)
    shutil.copy(staged.path, live)
    assert main(["keys", "public", "--format", new.value, "--keys-dir", str(settings.keys_dir)]) == 0
    production = replace(settings, env=Environment.PRODUCTION)

    phase_a = load_window(replace(production, format=old, accept_formats=(new,)), clock=utc_now)
    assert [(fmt.name, fmt.can_issue) for fmt in phase_a.accepted] == [(new, False)]
    assert "jwks.json" in phase_a.well_known()  # published before any token of it is issued

    shutil.copy(staged.path, live)  # the switch: the private key back under the same name
    phase_b = load_window(replace(production, format=new, accept_formats=(old,)), clock=utc_now)
    assert phase_b.issued.active_kid == staged.kid


def test_the_page_inspector_takes_an_old_token_apart_as_its_own_format(
    settings: Settings, deploy: Callable[..., Deployment]
) -> None:
    old, new = FormatName.JWT_HS256, FormatName.PASETO_V4_LOCAL
    access = deploy(keyed(settings, old, new)).login().json()["access_token"]
    after = deploy(replace(settings, format=new, accept_formats=(old,)))
    response = after.client.get("/page/inspect", headers={"Authorization": f"Bearer {access}"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["running"] == old.value
    (shown,) = (view for view in body["formats"] if view["running"])
    assert (shown["format"], shown["token"]) == (old.value, access)


def test_well_known_publishes_the_accepted_formats_public_keys(
    settings: Settings, deploy: Callable[..., Deployment]
) -> None:
    deploy(keyed(settings, FormatName.JWT_ES256, FormatName.PASETO_V4_PUBLIC))
    after = deploy(
        replace(settings, format=FormatName.PASETO_V4_PUBLIC, accept_formats=(FormatName.JWT_ES256,))
    )
    jwks = after.client.get("/.well-known/jwks.json")
    paserk = after.client.get("/.well-known/paserk.json")
    assert jwks.status_code == paserk.status_code == 200
    (es256,) = after.services.window.accepted
    assert [key["kid"] for key in jwks.json()["keys"]] == list(es256.kids)
    assert [key["kid"] for key in paserk.json()["keys"]] == list(after.services.fmt.kids)
    assert all("d" not in key for key in jwks.json()["keys"])


def test_logout_and_logout_all_work_with_old_format_tokens(
    settings: Settings, deploy: Callable[..., Deployment]
) -> None:
    old, new = FormatName.JWT_HS256, FormatName.PASETO_V4_PUBLIC
    before = deploy(keyed(settings, old, new))
    before.login()
    first = before.cookie
    access = before.login().json()["access_token"]
    second = before.cookie
    before.login()
    third = before.cookie
    after = deploy(replace(settings, format=new, accept_formats=(old,)))

    assert after.logout(first).status_code == 204
    assert after.refresh(first).json()["code"] == "token_revoked"
    response = after.client.post("/auth/logout-all", headers={"Authorization": f"Bearer {access}", **CSRF})
    assert response.status_code == 204
    assert after.refresh(second).json()["code"] == "token_revoked"
    assert after.refresh(third).json()["code"] == "token_revoked"


# --- the family's state machine across the switch, on every backend ----------------------------------------


@pytest.fixture(params=["sqlite", "postgresql", "redis"])
def backend(request: pytest.FixtureRequest, settings: Settings) -> Callable[[Settings], Stores | None]:
    """Stores for one run of the service: SQLite (the app's own), PostgreSQL, or sessions on Redis."""
    if request.param == "sqlite":
        return lambda changed: None
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_database")
        asyncio.run(wipe(url))
        return lambda changed: open_stores(replace(changed, database_url=Secret(url)))
    redis_url = request.getfixturevalue("redis_url")
    prefix = f"tokenbench-test:{secrets.token_hex(6)}:"
    return lambda changed: redis_stores(changed, redis_url, prefix, forget=False)


@pytest.mark.parametrize(
    ("old", "new"),
    [(FormatName.JWT_HS256, FormatName.PASETO_V4_PUBLIC), (FormatName.PASETO_V4_LOCAL, FormatName.JWT_ES256)],
    ids=["jwt-hs256->paseto-v4-public", "paseto-v4-local->jwt-es256"],
)
def test_the_refresh_family_crosses_the_switch_with_grace_and_reuse_detection(
    settings: Settings,
    deploy: Callable[..., Deployment],
    backend: Callable[[Settings], Stores | None],
    clock: Any,
    old: FormatName,
    new: FormatName,
) -> None:
    first = keyed(settings, old, new)
    before = deploy(first, backend(first))
    before.login()
    original = before.cookie
    family = before.services.fmt.verify(original, kind=Kind.REFRESH).fam

    switched = replace(settings, format=new, accept_formats=(old,))
    after = deploy(switched, backend(switched))
    rotated = after.refresh(original)
    assert rotated.status_code == 200, rotated.text
    successor = after.cookie
    assert token_label(successor) == after.services.fmt.token_label

    clock.advance(settings.refresh_grace)  # a retry of the old token within the grace window (two tabs)
    retry = after.refresh(original)
    assert retry.status_code == 200, retry.text
    assert after.cookie == successor  # the same successor, never a second lineage
    assert after.services.window.verify(successor, kind=Kind.REFRESH).fam == family

    clock.advance(1)  # after the grace window the old token is theft: the whole family goes
    reuse = after.refresh(original)
    assert (reuse.status_code, reuse.json()["code"]) == (401, "token_revoked")
    assert after.refresh(successor).json()["code"] == "token_revoked"  # new-format successor included


def test_the_role_is_re_read_when_an_old_refresh_token_rotates(
    settings: Settings, deploy: Callable[..., Deployment]
) -> None:
    old, new = FormatName.PASETO_V4_LOCAL, FormatName.JWT_HS256
    before = deploy(keyed(settings, old, new))
    before.login()
    refresh = before.cookie

    async def promote() -> None:
        await before.services.stores.users.set_role("alice", Role.ADMIN.value)

    with before.client.portal() as portal:
        portal.call(promote)
    after = deploy(replace(settings, format=new, accept_formats=(old,)))
    rotated = after.refresh(refresh)
    assert rotated.status_code == 200, rotated.text
    assert after.me(rotated.json()["access_token"]).json()["role"] == "admin"


# --- start-up ------------------------------------------------------------------------------------------


def test_an_accepted_format_without_keys_refuses_to_start_naming_the_variable(settings: Settings) -> None:
    generate_key_file(settings.keys_dir, settings.format)
    other = next(f for f in FormatName if f != settings.format)
    with pytest.raises(SettingsError) as caught:
        load_window(replace(settings, accept_formats=(other,)), clock=utc_now)
    assert str(caught.value).startswith(f"TOKENBENCH_ACCEPT_FORMATS: {other.value}: ")
    assert str(settings.keys_dir / other.value) in str(caught.value)
    assert not (settings.keys_dir / other.value).exists()  # development generates no key for it


def test_an_accepted_key_file_that_does_not_load_refuses_to_start_naming_it(settings: Settings) -> None:
    generate_key_file(settings.keys_dir, settings.format)
    other = next(f for f in FormatName if f != settings.format)
    bad = (
        settings.keys_dir
        / other.value
        / f"20260101T000000000000Z-bad{'.jwk' if 'jwt' in other else '.paserk'}"
    )
    bad.parent.mkdir(parents=True)
    bad.write_text("not a key\n")
    with pytest.raises(SettingsError, match=r"^TOKENBENCH_ACCEPT_FORMATS: ") as caught:
        load_window(replace(settings, accept_formats=(other,)), clock=utc_now)
    assert str(bad) in str(caught.value)


@pytest.mark.parametrize("name", [FormatName.JWT_ES256, FormatName.PASETO_V4_PUBLIC], ids=str)
def test_production_refuses_a_private_key_of_an_accepted_asymmetric_format(
    settings: Settings, name: FormatName, caplog: pytest.LogCaptureFixture
) -> None:
    issued = FormatName.JWT_HS256
    generate_key_file(settings.keys_dir, issued)
    generate_key_file(settings.keys_dir, name)
    window = replace(settings, format=issued, accept_formats=(name,))
    with caplog.at_level(logging.WARNING, logger="tokenbench"):
        load_window(window, clock=utc_now)
    assert "production refuses them" in caplog.text
    production = replace(window, env=Environment.PRODUCTION)
    with pytest.raises(SettingsError, match=f"^TOKENBENCH_ACCEPT_FORMATS: {name.value}: .* private key"):
        load_window(production, clock=utc_now)
    assert main(["keys", "public", "--format", name.value, "--keys-dir", str(settings.keys_dir)]) == 0
    accepted = load_window(production, clock=lambda: None).accepted  # type: ignore[arg-type,return-value]
    assert [fmt.can_issue for fmt in accepted] == [False]


def test_an_accepted_ring_sharing_key_bytes_with_the_issued_one_refuses_to_start(settings: Settings) -> None:
    """Catalog CROSS-FORMAT-KEY-REUSE, for an accepted ring: one 32-byte secret as HS256 and v4.local key."""
    secret = secrets.token_bytes(32)
    spelled = base64.urlsafe_b64encode(secret).rstrip(b"=").decode()
    local = settings.keys_dir / "paseto-v4-local" / "20260101T000000000000Z-shared.paserk"
    local.parent.mkdir(parents=True)
    local.write_text(f"k4.local.{spelled}\n")
    hs = settings.keys_dir / "jwt-hs256" / "20260101T000000000000Z-shared.jwk"
    hs.parent.mkdir(parents=True)
    kid = jwk_thumbprint({"k": spelled, "kty": "oct"})
    hs.write_text(json.dumps({"kty": "oct", "alg": "HS256", "kid": kid, "k": spelled}) + "\n")
    window = replace(settings, format=FormatName.PASETO_V4_LOCAL, accept_formats=(FormatName.JWT_HS256,))
    with pytest.raises(SettingsError, match=r"^TOKENBENCH_ACCEPT_FORMATS: jwt-hs256: .*same key bytes"):
        load_window(window, clock=utc_now)


@pytest.mark.parametrize("name", [FormatName.JWT_HS256, FormatName.PASETO_V4_LOCAL], ids=str)
def test_production_keeps_the_secret_key_of_an_accepted_symmetric_format(
    settings: Settings, name: FormatName
) -> None:
    issued = FormatName.PASETO_V4_PUBLIC
    generate_key_file(settings.keys_dir, issued)
    generate_key_file(settings.keys_dir, name)
    production = replace(settings, format=issued, accept_formats=(name,), env=Environment.PRODUCTION)
    (accepted,) = load_window(production, clock=lambda: None).accepted  # type: ignore[arg-type,return-value]
    assert accepted.name is name


def test_the_log_line_reports_accepted_tokens_when_they_change(
    settings: Settings, deploy: Callable[..., Deployment]
) -> None:
    old, new = FormatName.JWT_ES256, FormatName.PASETO_V4_LOCAL
    before = deploy(keyed(settings, old, new))
    access = before.login().json()["access_token"]
    after = deploy(replace(settings, format=new, accept_formats=(old,)))
    reporter = SeenReporter(after.services.window)
    assert reporter.started() == "issuing paseto-v4-local; still accepting jwt-es256 (1 key(s)) (verify only)"
    assert reporter.report() == "tokens of accepted formats verified by this process: jwt-es256: none yet"
    assert reporter.report() is None
    after.me(access)
    line = reporter.report()
    assert line is not None
    assert "jwt-es256: access 1, refresh 0, last " in line
    assert reporter.report() is None
