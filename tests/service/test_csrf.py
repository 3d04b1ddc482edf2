"""CSRF: the routes that act on the refresh cookie need ``X-Requested-With`` (``service.auth.csrf``).

Without it they answer 403 ``csrf_header_missing`` and do nothing: the session is neither rotated nor
revoked. A browser's cross-site form post cannot set the header; the real browser test
(``tests/browser``) shows the same refusal from a page on another origin.
"""

from __future__ import annotations

import pytest

COOKIE_ROUTES = ["/auth/refresh", "/auth/logout", "/auth/logout-all"]


def post_without_csrf_header(api, path: str, **kwargs):
    request = api.client.build_request("POST", path, **kwargs)
    del request.headers["X-Requested-With"]
    return api.client.send(request)


def assert_csrf_refusal(response) -> None:
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "csrf_header_missing"
    assert "X-Requested-With" in response.json()["detail"]


@pytest.mark.parametrize("path", COOKIE_ROUTES)
def test_cookie_route_without_csrf_header_is_403_and_changes_nothing(api, path: str) -> None:
    access = api.token_as("alice")
    before = api.refresh_cookie

    assert_csrf_refusal(post_without_csrf_header(api, path, headers={"Authorization": f"Bearer {access}"}))

    assert api.refresh_cookie == before  # no rotation, no cleared cookie
    assert api.client.post("/auth/refresh").status_code == 200  # and the family is still live


@pytest.mark.parametrize("path", COOKIE_ROUTES)
def test_empty_csrf_header_is_refused(api, path: str) -> None:
    access = api.token_as("alice")
    response = api.client.post(path, headers={"X-Requested-With": "", "Authorization": f"Bearer {access}"})
    assert_csrf_refusal(response)


def test_cross_site_form_post_is_refused(api) -> None:
    """What a form on another site sends: urlencoded body, foreign Origin, the cookie, no custom header."""
    api.login_as("alice")
    response = post_without_csrf_header(
        api,
        "/auth/logout",
        content=b"x=1",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": "https://evil.example",
            "Sec-Fetch-Site": "cross-site",
        },
    )
    assert_csrf_refusal(response)
    assert api.client.post("/auth/refresh").status_code == 200


def test_preflight_for_the_header_is_never_granted(api) -> None:
    """A script on another origin must ask first (CORS preflight); the service grants nothing."""
    response = api.client.options(
        "/auth/refresh",
        headers={
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-requested-with",
        },
    )
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-headers" not in response.headers


def test_any_non_empty_value_is_accepted(api) -> None:
    api.login_as("alice")
    assert api.client.post("/auth/refresh", headers={"X-Requested-With": "fetch"}).status_code == 200
    assert api.client.post("/auth/logout", headers={"X-Requested-With": "XMLHttpRequest"}).status_code == 204


def test_a_cross_site_text_plain_login_is_refused(api) -> None:
    """Login CSRF: a form posts text/plain whose text is JSON; no preflight, so the type itself is refused."""
    body = '{"username":"alice","password":"alice-password-1"}'
    for content_type in (
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ):
        response = api.client.post(
            "/auth/login",
            content=body,
            headers={"Content-Type": content_type, "Origin": "https://evil.example"},
        )
        assert response.status_code == 415, (content_type, response.text)
        assert response.json()["code"] == "unsupported_media_type"
        assert "set-cookie" not in response.headers
    assert (
        api.client.post("/auth/login", content=body, headers={"Content-Type": "application/json"}).status_code
        == 200
    )
