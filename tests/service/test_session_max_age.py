"""``TOKENBENCH_SESSION_MAX_AGE``: a refresh family ends that long after its login however often it is
refreshed (sliding refresh cannot keep a session forever), and the cookie never claims to outlive it."""

from __future__ import annotations

from dataclasses import replace

from formats import Kind

DAY = 86400


def max_age_of(response) -> int:
    attributes = dict(
        part.strip().partition("=")[::2] for part in response.headers["set-cookie"].split(";")[1:]
    )
    return int(attributes["Max-Age"])


def test_refresh_past_the_session_max_age_is_401_and_revokes_the_family(make_api, settings, clock) -> None:
    api = make_api(replace(settings, refresh_ttl=7 * DAY, session_max_age=10 * DAY))
    login = api.login_as("alice")
    assert max_age_of(login) == 7 * DAY
    family = api.services.fmt.verify(api.refresh_cookie, kind=Kind.REFRESH).fam

    clock.advance(6 * DAY)
    sliding = api.client.post("/auth/refresh")
    assert sliding.status_code == 200
    assert max_age_of(sliding) == 4 * DAY  # what is left of the ten days, not another seven

    clock.advance(4 * DAY)  # the token itself is still valid (it was issued for seven days)
    api.services.fmt.verify(api.refresh_cookie, kind=Kind.REFRESH)
    ended = api.client.post("/auth/refresh")

    assert ended.status_code == 401
    assert ended.json()["code"] == "token_revoked"
    record = api.run(lambda: api.services.stores.sessions.get(family))
    assert record is not None
    assert record.revoked_at is not None


def test_a_session_max_age_under_the_refresh_ttl_caps_the_first_cookie(make_api, settings) -> None:
    api = make_api(replace(settings, refresh_ttl=7 * DAY, session_max_age=DAY))
    assert max_age_of(api.login_as("alice")) == DAY
    claims = api.services.fmt.verify(api.refresh_cookie, kind=Kind.REFRESH)
    assert (claims.exp - claims.iat).total_seconds() == DAY
