"""``docs/service.md`` ("What the grace window trades") is true, in every format: a thief who replays a
copied refresh token inside the grace window gets the live successor and a working access token; the
theft is detected at the next use of a stale copy after the window, which revokes the family for both
holders, while the access token the thief already has lives until its ``exp``."""

from __future__ import annotations


def refresh_with(api, token: str):
    api.set_refresh_cookie(token)
    return api.client.post("/auth/refresh")


def test_a_thief_inside_the_grace_window_gets_the_live_successor_and_is_caught_after_it(api, clock) -> None:
    api.login_as("alice")
    stolen = api.refresh_cookie

    victim = refresh_with(api, stolen)
    assert victim.status_code == 200
    assert victim.headers["x-refresh-rotation"] == "rotated"
    live = api.refresh_cookie

    clock.advance(5)  # inside the default 10 s window
    thief = refresh_with(api, stolen)
    assert thief.status_code == 200
    assert thief.headers["x-refresh-rotation"] == "grace-retry"
    assert api.refresh_cookie == live  # the victim's own live token
    thief_access = thief.json()["access_token"]
    assert api.client.get("/me", headers={"Authorization": f"Bearer {thief_access}"}).status_code == 200

    victim = refresh_with(api, live)  # the victim refreshes on: one lineage, nothing detected yet
    assert victim.status_code == 200
    assert victim.headers["x-refresh-rotation"] == "rotated"
    victims_next = api.refresh_cookie

    clock.advance(11)  # past the window: the thief's copy of `live` is stale now
    caught = refresh_with(api, live)
    assert caught.status_code == 401
    assert caught.json()["code"] == "token_revoked"
    assert refresh_with(api, victims_next).status_code == 401  # the family is gone for both holders

    # Revocation does not reach access tokens already issued: the thief's lives until its exp.
    assert api.client.get("/me", headers={"Authorization": f"Bearer {thief_access}"}).status_code == 200
