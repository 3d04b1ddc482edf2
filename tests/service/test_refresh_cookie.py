"""The refresh cookie against cookie tossing, for every format: ``__Host-refresh_token`` over https, and
a planted second refresh cookie neither blocks logout nor survives it (refresh still refuses two)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from litestar.testing import TestClient

from formats import Kind
from service.app import create_app
from service.auth.roles import Role
from service.settings import Settings
from service.stores import SessionRecord
from tests.service.conftest import CSRF, PASSWORDS, Api


def family_of(api: Api, token: str) -> SessionRecord:
    family = api.services.fmt.verify(token, kind=Kind.REFRESH).fam
    assert family is not None
    record = api.run(lambda: api.services.stores.sessions.get(family))
    assert record is not None
    return record


def session_of(api: Api, username: str) -> str:
    token = api.login_as(username).cookies[api.cookie.name]
    api.client.cookies.clear()
    return str(token)


def test_over_https_a_planted_plain_refresh_token_cookie_is_ignored(api) -> None:
    """A sibling subdomain can plant ``refresh_token`` (Domain=parent), never ``__Host-refresh_token``."""
    victim, planted = session_of(api, "alice"), session_of(api, "admin")
    cookie = f"refresh_token={planted}; __Host-refresh_token={victim}"
    response = api.client.post("/auth/refresh", headers={"Cookie": cookie})
    assert response.status_code == 200, response.text
    assert api.services.fmt.verify(response.json()["access_token"], kind=Kind.ACCESS).sub == "alice"
    assert family_of(api, planted).ver == 0  # the planted session was not touched


@pytest.mark.parametrize("victim_first", [True, False], ids=["victim-first", "planted-first"])
def test_logout_with_a_planted_junk_cookie_ends_the_session_and_clears_the_cookie(api, victim_first) -> None:
    victim = session_of(api, "alice")
    name = api.cookie.name
    pair = [f"{name}={victim}", f"{name}=planted-junk"]
    cookie = "; ".join(pair if victim_first else pair[::-1])

    response = api.client.post("/auth/logout", headers={"Cookie": cookie})

    assert response.status_code == 204, response.text
    assert family_of(api, victim).revoked_at is not None
    cleared = response.headers.get_list("set-cookie")
    assert any(
        c.startswith(f"{name}=") and "Max-Age=0" in c and f"Path={api.cookie.path}" in c for c in cleared
    )


def test_logout_with_the_attackers_own_session_planted_ends_both(api) -> None:
    """Ending a session is never a privilege: revoking the attacker's planted family harms only them."""
    victim, planted = session_of(api, "alice"), session_of(api, "admin")
    name = api.cookie.name
    response = api.client.post("/auth/logout", headers={"Cookie": f"{name}={planted}; {name}={victim}"})
    assert response.status_code == 204
    assert family_of(api, victim).revoked_at is not None
    assert family_of(api, planted).revoked_at is not None


def test_logout_with_two_cookies_none_of_which_verifies_is_the_first_ones_error(api) -> None:
    name = api.cookie.name
    response = api.client.post("/auth/logout", headers={"Cookie": f"{name}=junk-1; {name}=junk-2"})
    assert response.status_code == 401
    assert response.json()["code"] == "token_malformed"


# --- TOKENBENCH_COOKIE_SECURE=false: no __Host- prefix, so a browser can hold tossed cookies ---------


@pytest.fixture
def plain_http(settings: Settings, clock) -> Iterator[Api]:
    """The service over plain http on ``auth.tokenbench.test``, whose parent domain a sibling can set."""
    app = create_app(replace(settings, cookie_secure=False), clock=clock)
    with TestClient(app, base_url="http://auth.tokenbench.test") as client:
        client.headers.update(CSRF)
        api = Api(client=client, services=app.state.services)
        api.add_user("alice", PASSWORDS["alice"], Role.USER)
        api.add_user("admin", PASSWORDS["admin"], Role.ADMIN)
        yield api


def refresh_cookies_in(api: Api) -> list[tuple[str, str]]:
    return [(c.domain, c.path) for c in api.client.cookies.jar if c.name == "refresh_token"]


def test_logout_clears_refresh_cookies_tossed_from_a_sibling_subdomain(plain_http: Api) -> None:
    api = plain_http
    planted = session_of(api, "admin")
    api.login_as("alice")
    for path in ("/auth/logout", "/auth/refresh", "/"):  # what evil.tokenbench.test can set for its parent
        api.client.cookies.set("refresh_token", planted, domain=".tokenbench.test", path=path)
    assert len(refresh_cookies_in(api)) == 4
    refused = api.client.post("/auth/refresh")
    assert refused.status_code == 401
    assert refused.json()["code"] == "token_malformed"

    response = api.client.post("/auth/logout")

    assert response.status_code == 204, response.text
    assert refresh_cookies_in(api) == []
    api.login_as("alice")
    assert api.client.post("/auth/refresh").status_code == 200  # nothing planted is left to block it
