"""The refresh-session state machine over HTTP, for every format: rotation, the grace window, reuse
detection, logout, logout-all, role changes, and 20 concurrent refreshes of one token."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import httpx

from formats import Kind
from tests.service.conftest import CSRF

INVALID_TOKEN = 'Bearer error="invalid_token"'


def refresh_with(api, token: str):
    api.set_refresh_cookie(token)
    return api.client.post("/auth/refresh")


def assert_revoked(response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "token_revoked"
    assert response.headers["www-authenticate"] == INVALID_TOKEN


def test_refresh_rotates_the_cookie_and_issues_a_working_access_token(api, format_name) -> None:
    api.login_as("alice")
    first = api.refresh_cookie

    response = api.client.post("/auth/refresh")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "format"}
    assert body["format"] == format_name.value
    assert response.headers["cache-control"] == "no-store"
    second = api.refresh_cookie
    assert second is not None
    assert second != first
    claims = api.services.fmt.verify(second, kind=Kind.REFRESH)
    assert claims.ver == 1
    assert claims.fam == api.services.fmt.verify(first, kind=Kind.REFRESH).fam
    me = api.client.get("/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["username"] == "alice"


def test_refresh_without_the_cookie_is_401_missing_credentials(api) -> None:
    response = api.client.post("/auth/refresh")
    assert response.status_code == 401
    assert response.json()["code"] == "missing_credentials"
    assert response.headers["www-authenticate"] == "Bearer"


def test_refresh_with_a_garbage_cookie_is_401_malformed(api) -> None:
    response = refresh_with(api, "not-a-token")
    assert response.status_code == 401
    assert response.json()["code"] == "token_malformed"


def test_two_refresh_cookies_in_one_request_are_refused_not_resolved(api) -> None:
    api.login_as("alice")
    victim = api.refresh_cookie
    api.client.cookies.clear()
    api.login_as("admin")
    planted = api.refresh_cookie
    api.client.cookies.clear()
    name = api.cookie.name
    for cookie in (f"{name}={victim}; {name}={planted}", f"{name}={planted}; a=b; {name}={victim}"):
        response = api.client.post("/auth/refresh", headers={"Cookie": cookie})
        assert response.status_code == 401
        assert response.json()["code"] == "token_malformed"
        assert "POST /auth/logout clears them" in response.json()["detail"]
    assert "set-cookie" not in response.headers


def test_refresh_with_an_access_token_in_the_cookie_is_401_wrong_kind(api) -> None:
    response = refresh_with(api, api.token_as("alice"))
    assert response.status_code == 401
    assert response.json()["code"] == "token_wrong_kind"


def test_refresh_with_an_expired_refresh_token_is_401_expired(api, clock) -> None:
    api.login_as("alice")
    clock.advance(7 * 24 * 3600 + 31)
    response = api.client.post("/auth/refresh")
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"


def test_retry_within_the_grace_window_gets_the_same_successor(api, clock) -> None:
    api.login_as("alice")
    original = api.refresh_cookie
    assert api.client.post("/auth/refresh").status_code == 200
    successor = api.refresh_cookie

    clock.advance(10)  # the grace window is 10 s, inclusive
    retry = refresh_with(api, original)

    assert retry.status_code == 200
    assert api.refresh_cookie == successor
    assert refresh_with(api, successor).status_code == 200  # the one lineage continues


def test_reused_refresh_token_revokes_family(api, clock) -> None:
    api.login_as("alice")
    original = api.refresh_cookie
    assert api.client.post("/auth/refresh").status_code == 200
    successor = api.refresh_cookie

    clock.advance(11)
    reuse = refresh_with(api, original)

    assert_revoked(reuse)
    assert "reused" in reuse.json()["detail"]
    assert_revoked(refresh_with(api, successor))


def test_an_older_token_is_reuse_even_within_the_grace_window(api, clock) -> None:
    api.login_as("alice")
    first = api.refresh_cookie
    assert api.client.post("/auth/refresh").status_code == 200
    second = api.refresh_cookie
    assert api.client.post("/auth/refresh").status_code == 200
    third = api.refresh_cookie

    clock.advance(1)
    assert_revoked(refresh_with(api, first))
    assert_revoked(refresh_with(api, second))
    assert_revoked(refresh_with(api, third))


def test_strict_mode_treats_any_second_use_as_reuse(make_api, settings) -> None:
    api = make_api(replace(settings, refresh_grace=0))
    api.login_as("alice")
    original = api.refresh_cookie
    assert api.client.post("/auth/refresh").status_code == 200
    successor = api.refresh_cookie

    assert_revoked(refresh_with(api, original))
    assert_revoked(refresh_with(api, successor))


def test_refresh_of_a_user_deleted_meanwhile_is_refused(api) -> None:
    api.login_as("alice")
    api.run(lambda: api.services.stores.users.delete("alice"))
    assert_revoked(api.client.post("/auth/refresh"))


def test_logout_revokes_the_family_and_clears_the_cookie(api) -> None:
    access = api.login_as("alice").json()["access_token"]
    token = api.refresh_cookie

    response = api.client.post("/auth/logout")

    assert response.status_code == 204
    set_cookie = response.headers.get_list("set-cookie")[0]
    assert set_cookie.startswith(f'{api.cookie.name}=""') or set_cookie.startswith(f"{api.cookie.name}=;")
    assert "max-age=0" in set_cookie.lower()
    assert f"path={api.cookie.path}" in set_cookie.lower()
    assert api.refresh_cookie is None
    assert_revoked(refresh_with(api, token))
    # access tokens are stateless: the one already issued lives until it expires
    assert api.client.get("/me", headers={"Authorization": f"Bearer {access}"}).status_code == 200


def test_logout_without_a_session_is_401(api) -> None:
    assert api.client.post("/auth/logout").status_code == 401
    api.login_as("alice")
    token = api.refresh_cookie
    assert api.client.post("/auth/logout").status_code == 204
    api.set_refresh_cookie(token)
    assert_revoked(api.client.post("/auth/logout"))


def test_logout_all_revokes_every_session_of_the_caller_only(api) -> None:
    api.login_as("alice")
    alice_phone = api.refresh_cookie
    alice_laptop_access = api.login_as("alice").json()["access_token"]
    alice_laptop = api.refresh_cookie
    api.login_as("admin")
    admin_session = api.refresh_cookie

    response = api.client.post("/auth/logout-all", headers={"Authorization": f"Bearer {alice_laptop_access}"})

    assert response.status_code == 204
    assert_revoked(refresh_with(api, alice_phone))
    assert_revoked(refresh_with(api, alice_laptop))
    assert refresh_with(api, admin_session).status_code == 200


def test_logout_all_needs_a_bearer_token(api) -> None:
    response = api.client.post("/auth/logout-all")
    assert response.status_code == 401
    assert response.json()["code"] == "missing_credentials"


def test_role_change_revokes_sessions_and_the_next_login_carries_the_new_role(api) -> None:
    api.login_as("alice")
    alice_session = api.refresh_cookie
    changed = api.client.patch("/admin/users/alice", headers=api.bearer("admin"), json={"role": "admin"})
    assert changed.status_code == 200

    assert_revoked(refresh_with(api, alice_session))
    api.client.cookies.clear()
    token = api.token_as("alice")
    assert api.services.fmt.verify(token, kind=Kind.ACCESS).role == "admin"
    assert api.client.get("/admin/users", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_setting_the_same_role_again_revokes_sessions(api) -> None:
    """Repeating a role change is how one whose revocation failed is completed (service/accounts.py)."""
    api.login_as("alice")
    session = api.refresh_cookie
    response = api.client.patch("/admin/users/alice", headers=api.bearer("admin"), json={"role": "user"})
    assert response.status_code == 200
    assert_revoked(refresh_with(api, session))


def concurrent_refreshes(api, token: str, count: int) -> list[httpx.Response]:
    async def fire() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=api.client.app)
        async with httpx.AsyncClient(transport=transport, base_url=str(api.client.base_url)) as client:
            cookies = {"Cookie": f"{api.cookie.name}={token}", **CSRF}
            return list(
                await asyncio.gather(*(client.post("/auth/refresh", headers=cookies) for _ in range(count)))
            )

    return api.run(fire)


def successor_of(response: httpx.Response) -> str:
    set_cookie = response.headers["set-cookie"]
    return set_cookie.split(";", 1)[0].split("=", 1)[1]


def test_twenty_concurrent_refreshes_of_one_token_leave_exactly_one_lineage(api, clock) -> None:
    api.login_as("alice")
    original = api.refresh_cookie
    family = api.services.fmt.verify(original, kind=Kind.REFRESH).fam

    responses = concurrent_refreshes(api, original, 20)

    assert [r.status_code for r in responses] == [200] * 20
    successors = {successor_of(r) for r in responses}
    assert len(successors) == 1
    (successor,) = successors
    record = api.run(lambda: api.services.stores.sessions.get(family))
    assert record.ver == 1
    assert record.current_jti == api.services.fmt.verify(successor, kind=Kind.REFRESH).jti
    assert refresh_with(api, successor).status_code == 200
    clock.advance(11)
    assert_revoked(refresh_with(api, original))


def test_twenty_concurrent_refreshes_in_strict_mode_let_one_win_then_revoke(make_api, settings) -> None:
    api = make_api(replace(settings, refresh_grace=0))
    api.login_as("alice")
    original = api.refresh_cookie

    responses = concurrent_refreshes(api, original, 20)

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [401] * 19
    winner = next(r for r in responses if r.status_code == 200)
    assert_revoked(refresh_with(api, successor_of(winner)))
