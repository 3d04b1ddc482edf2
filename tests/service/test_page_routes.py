"""The teaching page's routes over HTTP, for every format: the static files and their security headers, the
inspector's data, the lab specimens (refused everywhere), the replay set-up, and the rotation header.
The page itself runs in a real browser in ``tests/browser``."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from formats import FormatName, Kind
from service.routes.page import CONTENT_SECURITY_POLICY
from service.settings import Environment
from tests.service.conftest import sqlite_url


def test_page_is_served_with_a_strict_policy_and_no_inline_code(api) -> None:
    response = api.client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "unsafe" not in CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    html = response.text
    assert re.findall(r"<script\b[^>]*>", html) == ['<script type="module" src="/page/app.js">']
    assert "<style" not in html
    assert " style=" not in html
    assert not re.search(r"<[^>]*\son\w+=", html)  # no inline event handlers
    for name, kind in [
        ("app.js", "text/javascript"),
        ("page.css", "text/css"),
        ("favicon.svg", "image/svg+xml"),
    ]:
        asset = api.client.get(f"/page/{name}")
        assert asset.status_code == 200, name
        assert asset.headers["content-type"].startswith(kind)
        assert asset.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("path", ["/page/index.html", "/page/../service/app.py", "/page/secret.txt"])
def test_only_the_page_files_are_served(api, path: str) -> None:
    response = api.client.get(path)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_inspect_needs_a_token(api) -> None:
    response = api.client.get("/page/inspect")
    assert response.status_code == 401
    assert response.json()["code"] == "missing_credentials"


def test_inspect_shows_the_token_and_the_same_claims_in_every_format(api, format_name: FormatName) -> None:
    token = api.token_as("alice")
    body = api.client.get("/page/inspect", headers={"Authorization": f"Bearer {token}"}).json()

    assert body["running"] == format_name.value
    assert [view["format"] for view in body["formats"]] == [f.value for f in FormatName]
    running = [view for view in body["formats"] if view["running"]]
    assert [view["token"] for view in running] == [token]
    for view in body["formats"]:
        assert "".join(span["text"] for span in view["spans"]) == view["token"]
        assert {"envelope", "claims", "proof"} <= {span["role"] for span in view["spans"]}
        report = view["report"]
        if view["format"] == FormatName.PASETO_V4_LOCAL:
            assert report["claims"] == "encrypted"
        else:
            assert report["claims"]["sub"] == "alice"
        if not view["running"]:  # throwaway keys: the service accepts none of them
            refused = api.client.get("/me", headers={"Authorization": f"Bearer {view['token']}"})
            assert refused.status_code == 401


def test_span_boundaries_follow_the_decoded_parts(api) -> None:
    token = api.token_as("alice")
    body = api.client.get("/page/inspect", headers={"Authorization": f"Bearer {token}"}).json()
    local = next(view for view in body["formats"] if view["format"] == FormatName.PASETO_V4_LOCAL)
    parts = [span["part"] for span in local["spans"]]
    assert parts == ["header", "body.nonce", "body.ciphertext", "body.tag", ".", "footer"]
    nonce = next(span for span in local["spans"] if span["part"] == "body.nonce")
    assert len(nonce["text"]) == 42  # 32 bytes start 42.67 characters of base64url in


def test_lab_specimens_are_refused_everywhere(api) -> None:
    bearer = api.bearer("alice")
    expired = api.client.post("/page/lab/expired", headers=bearer).json()["token"]
    wrong_kind = api.client.post("/page/lab/wrong-kind", headers=bearer).json()["token"]

    me = api.client.get("/me", headers={"Authorization": f"Bearer {expired}"})
    assert (me.status_code, me.json()["code"]) == (401, "token_expired")
    me = api.client.get("/me", headers={"Authorization": f"Bearer {wrong_kind}"})
    assert (me.status_code, me.json()["code"]) == (401, "token_wrong_kind")
    assert api.services.fmt.verify(wrong_kind, kind=Kind.REFRESH).sub == "alice"
    api.set_refresh_cookie(wrong_kind)
    assert api.client.post("/auth/refresh").status_code == 401  # its family was never started
    assert api.client.post("/auth/logout").status_code == 401
    assert api.client.post("/page/lab/unknown", headers=bearer).status_code == 404


def test_rewind_sets_up_a_replay_that_revokes_the_family(api, clock) -> None:
    api.login_as("alice")
    before = api.refresh_cookie
    response = api.client.post("/auth/lab/rewind")
    assert response.status_code == 200
    assert response.json() == {"grace": api.services.settings.refresh_grace}
    assert api.refresh_cookie == before  # rotated server-side, the used-up token put back

    clock.advance(api.services.settings.refresh_grace + 1)
    replay = api.client.post("/auth/refresh")
    assert (replay.status_code, replay.json()["code"]) == (401, "token_revoked")


def test_rewind_needs_the_csrf_header(api) -> None:
    api.login_as("alice")
    response = api.client.post("/auth/lab/rewind", headers={"X-Requested-With": ""})
    assert (response.status_code, response.json()["code"]) == (403, "csrf_header_missing")


def test_lab_routes_are_off_in_production(api, make_api, settings, tmp_path) -> None:
    production = make_api(
        replace(settings, env=Environment.PRODUCTION, database_url=sqlite_url(tmp_path / "production.db"))
    )
    bearer = production.bearer("alice")
    assert production.client.post("/page/lab/expired", headers=bearer).status_code == 404
    assert production.client.post("/auth/lab/rewind").status_code == 404
    assert production.client.get("/").status_code == 200


def test_refresh_says_whether_it_rotated_or_was_a_grace_retry(api) -> None:
    api.login_as("alice")
    first = api.refresh_cookie
    assert api.client.post("/auth/refresh").headers["x-refresh-rotation"] == "rotated"
    api.set_refresh_cookie(first)
    assert api.client.post("/auth/refresh").headers["x-refresh-rotation"] == "grace-retry"
    assert "x-refresh-rotation" not in api.login_as("alice").headers
