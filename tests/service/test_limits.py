"""Login rate limiting (429 + Retry-After) and request-size limits, for every format."""

from __future__ import annotations

from dataclasses import replace

from service.settings import RateLimit


def test_login_rate_limit_answers_429_with_retry_after_then_recovers(make_api, settings, clock) -> None:
    api = make_api(replace(settings, login_rate_limit=RateLimit(count=3, period=60)))
    for _ in range(3):
        assert api.login("alice", "wrong-password").status_code == 401

    clock.advance(15)
    limited = api.login("alice", "alice-password-1")

    assert limited.status_code == 429
    assert limited.json() == {"status_code": 429, "detail": "too many login attempts", "code": "rate_limited"}
    assert limited.headers["retry-after"] == "45"
    assert "set-cookie" not in limited.headers
    clock.advance(45)
    assert api.login("alice", "alice-password-1").status_code == 200


def test_login_rate_limit_is_per_user_name(make_api, settings) -> None:
    api = make_api(replace(settings, login_rate_limit=RateLimit(count=2, period=60)))
    for _ in range(3):
        api.login("mallory", "guess")
    assert api.login("mallory", "guess").status_code == 429
    assert api.login("MALLORY", "guess").status_code == 429  # names are counted case-insensitively
    assert api.login("alice", "alice-password-1").status_code == 200


def test_login_rate_limit_off_never_answers_429(make_api, settings) -> None:
    api = make_api(replace(settings, login_rate_limit=None))
    assert all(api.login("alice", "wrong-password").status_code == 401 for _ in range(15))


def test_an_authorization_header_over_8_kib_is_refused_unparsed(api) -> None:
    token = api.token_as("alice")
    padded = "Bearer " + token + " " * (8192 - len(token))
    response = api.client.get("/me", headers={"Authorization": padded})
    assert response.status_code == 401
    assert response.json()["code"] == "token_malformed"
    assert "8 KiB" in response.json()["detail"]
    assert api.client.get("/me", headers={"Authorization": "Bearer " + token}).status_code == 200


def test_a_refresh_cookie_over_8_kib_is_refused_unparsed(api) -> None:
    api.login_as("alice")
    response = api.client.post("/auth/refresh", headers={"Cookie": f"{api.cookie.name}={'x' * 8193}"})
    assert response.status_code == 401
    assert response.json()["code"] == "token_malformed"
    assert "8 KiB" in response.json()["detail"]


def test_large_unrelated_cookies_block_neither_refresh_nor_logout(api) -> None:
    """Cookies a sibling subdomain plants (tracker-sized, 9 KiB in all) must not keep a session alive."""
    api.login_as("alice")
    token = api.refresh_cookie
    planted = "; ".join(f"tracker{i}={'x' * 3000}" for i in range(3))
    cookie = {"Cookie": f"{api.cookie.name}={token}; {planted}"}
    refreshed = api.client.post("/auth/refresh", headers=cookie)
    assert refreshed.status_code == 200, refreshed.text
    cookie = {"Cookie": f"{api.cookie.name}={api.refresh_cookie}; {planted}"}
    assert api.client.post("/auth/logout", headers=cookie).status_code == 204
    assert api.client.post("/auth/refresh", headers=cookie).status_code == 401


def test_cookie_headers_over_64_kib_in_all_are_refused_unparsed(api) -> None:
    api.login_as("alice")
    response = api.client.post(
        "/auth/refresh", headers={"Cookie": f"{api.cookie.name}={api.refresh_cookie}; pad={'x' * 65536}"}
    )
    assert response.status_code == 401
    assert response.json()["code"] == "token_malformed"
    assert "64 KiB" in response.json()["detail"]


def test_a_megabyte_token_is_refused_as_malformed(api) -> None:
    response = api.client.get("/me", headers={"Authorization": "Bearer " + "a" * (1024 * 1024)})
    assert response.status_code == 401
    assert response.json()["code"] == "token_malformed"
