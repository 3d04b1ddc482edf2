"""The HTTP contract of docs/design.md, route by route, for every format (the ``api`` fixture is built from
``format_name``). Nothing here branches on the format: these answers must be identical in every format."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from formats import Kind, ephemeral
from service.auth.roles import Role, permissions_of

INVALID_TOKEN = 'Bearer error="invalid_token"'
INSUFFICIENT_SCOPE = 'Bearer error="insufficient_scope"'


def assert_error(response, status: int, code: str, challenge: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"status_code", "detail", "code"}
    assert body["status_code"] == status
    assert body["code"] == code
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert response.headers.get("www-authenticate") == challenge


def cookie_attributes(set_cookie: str) -> dict[str, str]:
    parts = [p.strip() for p in set_cookie.split(";")]
    attrs = {}
    for part in parts[1:]:
        name, _, value = part.partition("=")
        attrs[name.lower()] = value
    return attrs


# --- POST /auth/login --------------------------------------------------------------------------------


def test_login_returns_a_bearer_token_body_and_the_refresh_cookie(api, format_name) -> None:
    response = api.login_as("alice")

    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "format"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["format"] == format_name.value
    assert response.headers["cache-control"] == "no-store"
    set_cookie = response.headers["set-cookie"]
    assert set_cookie.startswith("__Host-refresh_token=")
    attrs = cookie_attributes(set_cookie)
    assert "httponly" in attrs
    assert "secure" in attrs
    assert "domain" not in attrs  # __Host-: host-only, Secure and Path=/, or browsers drop it
    assert attrs["samesite"].lower() == "strict"
    assert attrs["path"] == "/"
    assert attrs["max-age"] == str(7 * 24 * 3600)


def test_login_cookie_is_plain_at_auth_only_when_cookie_secure_is_false(make_api, settings) -> None:
    api = make_api(replace(settings, cookie_secure=False))
    set_cookie = api.login_as("alice").headers["set-cookie"]
    assert set_cookie.startswith("refresh_token=")
    attrs = cookie_attributes(set_cookie)
    assert "secure" not in attrs
    assert "httponly" in attrs
    assert attrs["path"] == "/auth"


def test_login_access_token_is_an_access_token_of_the_configured_format(api) -> None:
    token = api.token_as("alice")
    claims = api.services.fmt.verify(token, kind=Kind.ACCESS)
    assert (claims.sub, claims.role) == ("alice", "user")
    assert claims.perms == permissions_of(Role.USER)
    assert claims.exp - claims.iat == timedelta(seconds=900)


def test_login_answers_wrong_password_and_unknown_user_identically(api) -> None:
    wrong_password = api.login("alice", "not-her-password")
    unknown_user = api.login("mallory", "not-her-password")

    assert_error(wrong_password, 401, "invalid_credentials", "Bearer")
    assert wrong_password.json() == unknown_user.json()
    assert wrong_password.headers.get("www-authenticate") == unknown_user.headers.get("www-authenticate")
    assert "set-cookie" not in wrong_password.headers


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b'"alice"',
        b"{}",
        b'{"username": "alice"}',
        b'{"username": 1, "password": "x"}',
        b'{"username": "alice", "password": null}',
        b'{"username": "", "password": "x"}',
        b'{"username": "alice", "password": "alice-password-1", "role": "admin"}',
    ],
    ids=[
        "not-json",
        "array",
        "string",
        "empty",
        "no-password",
        "int-name",
        "null-password",
        "empty-name",
        "extra-field",
    ],
)
def test_login_with_a_malformed_body_is_400(api, body: bytes) -> None:
    response = api.client.post("/auth/login", content=body, headers={"Content-Type": "application/json"})
    assert_error(response, 400, "invalid_request")


def test_login_with_an_oversized_body_is_413_before_parsing(api) -> None:
    response = api.client.post("/auth/login", content=b"x" * (65 * 1024))
    assert_error(response, 413, "request_too_large")


# --- GET /me ---------------------------------------------------------------------------------------


def test_me_answers_from_the_access_token(api) -> None:
    response = api.client.get("/me", headers=api.bearer("alice"))
    assert response.status_code == 200
    assert response.json() == {
        "sub": "alice",
        "username": "alice",
        "role": "user",
        "permissions": list(permissions_of(Role.USER)),
    }


def test_me_without_credentials_is_401_with_a_bare_bearer_challenge(api) -> None:
    assert_error(api.client.get("/me"), 401, "missing_credentials", "Bearer")


def test_me_with_another_scheme_is_401_missing_credentials(api) -> None:
    response = api.client.get("/me", headers={"Authorization": "Basic YWxpY2U6c2VjcmV0"})
    assert_error(response, 401, "missing_credentials", "Bearer")


@pytest.mark.parametrize("value", ["Bearer", "Bearer ", "Bearer garbage", "Bearer a.b.c", "bearer x.y"])
def test_me_with_a_malformed_token_is_401_invalid_token(api, value: str) -> None:
    assert_error(
        api.client.get("/me", headers={"Authorization": value}), 401, "token_malformed", INVALID_TOKEN
    )


def test_me_accepts_the_scheme_in_any_case(api) -> None:
    token = api.token_as("alice")
    assert api.client.get("/me", headers={"Authorization": f"bEaReR {token}"}).status_code == 200


def test_me_with_two_authorization_headers_is_401(api) -> None:
    token = api.token_as("alice")
    headers = [("Authorization", f"Bearer {token}"), ("Authorization", f"Bearer {token}")]
    assert_error(api.client.get("/me", headers=headers), 401, "token_malformed", INVALID_TOKEN)


def test_me_with_a_refresh_token_as_bearer_is_401_wrong_kind(api) -> None:
    api.login_as("alice")
    response = api.client.get("/me", headers={"Authorization": f"Bearer {api.refresh_cookie}"})
    assert_error(response, 401, "token_wrong_kind", INVALID_TOKEN)


def test_me_with_an_expired_access_token_is_401_expired(api, clock) -> None:
    headers = api.bearer("alice")
    clock.advance(900 + 30)
    assert api.client.get("/me", headers=headers).status_code == 200  # exp + leeway: still valid
    clock.advance(1)
    assert_error(api.client.get("/me", headers=headers), 401, "token_expired", INVALID_TOKEN)


def test_me_with_a_token_from_another_key_ring_is_401_unknown_key(
    api, format_name, policy, clock, make_claims
) -> None:
    stranger = ephemeral(format_name, policy=policy, clock=clock)
    token = stranger.issue(make_claims(sub="alice", perms=permissions_of(Role.USER)), kind=Kind.ACCESS)
    assert_error(
        api.client.get("/me", headers={"Authorization": f"Bearer {token}"}),
        401,
        "token_unknown_key",
        INVALID_TOKEN,
    )


def test_me_with_a_token_for_another_audience_is_401_claims_invalid(api, make_claims) -> None:
    claims = make_claims(sub="alice", aud="another-api", perms=permissions_of(Role.USER))
    token = api.services.fmt.issue(claims, kind=Kind.ACCESS)
    assert_error(
        api.client.get("/me", headers={"Authorization": f"Bearer {token}"}),
        401,
        "token_claims_invalid",
        INVALID_TOKEN,
    )


def test_me_without_the_profile_permission_is_403(api, make_claims) -> None:
    token = api.services.fmt.issue(make_claims(sub="alice", perms=()), kind=Kind.ACCESS)
    assert_error(
        api.client.get("/me", headers={"Authorization": f"Bearer {token}"}),
        403,
        "insufficient_permission",
        INSUFFICIENT_SCOPE,
    )


# --- guards on /admin ------------------------------------------------------------------------------


def test_admin_routes_refuse_a_user_token_with_403_insufficient_role(api) -> None:
    headers = api.bearer("alice")
    for response in (
        api.client.get("/admin/users", headers=headers),
        api.client.post(
            "/admin/users",
            headers=headers,
            json={"username": "bob", "password": "bob-password", "role": "user"},
        ),
        api.client.patch("/admin/users/alice", headers=headers, json={"role": "admin"}),
    ):
        assert_error(response, 403, "insufficient_role", INSUFFICIENT_SCOPE)


def test_admin_routes_without_credentials_are_401(api) -> None:
    for response in (
        api.client.get("/admin/users"),
        api.client.post("/admin/users", json={"username": "bob", "password": "bob-password", "role": "user"}),
        api.client.patch("/admin/users/alice", json={"role": "admin"}),
    ):
        assert_error(response, 401, "missing_credentials", "Bearer")


def test_admin_role_without_the_permission_is_403_insufficient_permission(api, make_claims) -> None:
    token = api.services.fmt.issue(make_claims(sub="admin", role="admin", perms=()), kind=Kind.ACCESS)
    response = api.client.get("/admin/users", headers={"Authorization": f"Bearer {token}"})
    assert_error(response, 403, "insufficient_permission", INSUFFICIENT_SCOPE)


def test_permissions_without_the_admin_role_are_403_insufficient_role(api, make_claims) -> None:
    token = api.services.fmt.issue(
        make_claims(sub="alice", role="user", perms=permissions_of(Role.ADMIN)), kind=Kind.ACCESS
    )
    response = api.client.get("/admin/users", headers={"Authorization": f"Bearer {token}"})
    assert_error(response, 403, "insufficient_role", INSUFFICIENT_SCOPE)


# --- /admin/users ----------------------------------------------------------------------------------


def test_admin_lists_users_without_password_hashes(api) -> None:
    response = api.client.get("/admin/users", headers=api.bearer("admin"))
    assert response.status_code == 200
    users = response.json()
    assert [(u["username"], u["role"]) for u in users] == [("admin", "admin"), ("alice", "user")]
    assert all(set(u) == {"username", "role", "created_at"} for u in users)
    assert "argon2" not in response.text


def test_admin_creates_a_user_who_can_log_in_with_that_role(api) -> None:
    response = api.client.post(
        "/admin/users",
        headers=api.bearer("admin"),
        json={"username": "bob", "password": "bob-password", "role": "admin"},
    )
    assert response.status_code == 201
    assert response.json()["username"] == "bob"
    assert response.json()["role"] == "admin"
    assert "password" not in response.text
    token = api.login("bob", "bob-password").json()["access_token"]
    assert api.client.get("/admin/users", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_admin_creating_an_existing_user_is_409(api) -> None:
    response = api.client.post(
        "/admin/users",
        headers=api.bearer("admin"),
        json={"username": "alice", "password": "another-password", "role": "user"},
    )
    assert_error(response, 409, "user_exists")


@pytest.mark.parametrize(
    "body",
    [
        {"username": "bob", "password": "short", "role": "user"},
        {"username": "bob", "password": "bob-password", "role": "root"},
        {"username": "bob/../x", "password": "bob-password", "role": "user"},
        {"username": "", "password": "bob-password", "role": "user"},
        {"username": "bob", "password": "bob-password"},
        {"username": "bob", "password": "bob-password", "role": "user", "extra": 1},
    ],
    ids=["short-password", "unknown-role", "bad-name", "empty-name", "no-role", "extra-field"],
)
def test_admin_create_with_a_bad_body_is_400(api, body) -> None:
    assert_error(
        api.client.post("/admin/users", headers=api.bearer("admin"), json=body), 400, "invalid_request"
    )


def test_admin_changes_a_role(api) -> None:
    response = api.client.patch("/admin/users/alice", headers=api.bearer("admin"), json={"role": "admin"})
    assert response.status_code == 200
    assert response.json()["role"] == "admin"
    listed = api.client.get("/admin/users", headers=api.bearer("admin")).json()
    assert {u["username"]: u["role"] for u in listed}["alice"] == "admin"


def test_admin_changing_the_role_of_an_unknown_user_is_404(api) -> None:
    response = api.client.patch("/admin/users/nobody", headers=api.bearer("admin"), json={"role": "admin"})
    assert_error(response, 404, "user_not_found")


def test_admin_changing_to_an_unknown_role_is_400(api) -> None:
    response = api.client.patch("/admin/users/alice", headers=api.bearer("admin"), json={"role": "root"})
    assert_error(response, 400, "invalid_request")


# --- /health, /schema, unknown routes --------------------------------------------------------------


def test_health_names_the_format_and_the_store_states(api, format_name) -> None:
    response = api.client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["format"] == format_name.value
    assert body["database"] == "ok"
    assert body["sessions"] == "ok"
    assert body["backends"] == {"database": "sqlite", "sessions": "sqlite"}
    assert body["accepted"] == {}
    assert api.client.get("/health/live").json() == {"status": "ok"}


def test_schema_puts_the_bearer_scheme_on_protected_routes_only(api) -> None:
    assert api.client.get("/schema").status_code == 200
    schema = api.client.get("/schema/openapi.json").json()
    scheme = schema["components"]["securitySchemes"]["BearerToken"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    paths = schema["paths"]
    protected = [
        ("/me", "get"),
        ("/auth/logout-all", "post"),
        ("/admin/users", "get"),
        ("/admin/users", "post"),
        ("/admin/users/{username}", "patch"),
    ]
    for path, method in protected:
        assert paths[path][method]["security"] == [{"BearerToken": []}], path
    for path, method in [("/auth/login", "post"), ("/auth/refresh", "post"), ("/health", "get")]:
        assert "security" not in paths[path][method], path


def test_an_unknown_route_is_404_and_a_wrong_method_405_in_the_error_shape(api) -> None:
    assert_error(api.client.get("/nowhere"), 404, "not_found")
    assert_error(api.client.get("/auth/login"), 405, "method_not_allowed")


def test_schema_is_json_only_with_a_csp_that_lets_nothing_run(api) -> None:
    """No page loading third-party JavaScript on the origin of /auth/refresh (docs/service.md)."""
    for path in ("/schema", "/schema/openapi.json"):
        response = api.client.get(path)
        assert response.status_code == 200
        assert response.json()["openapi"].startswith("3.")
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
        assert response.headers["x-content-type-options"] == "nosniff"
    for page in ("swagger", "redoc", "rapidoc", "elements", "scalar"):
        response = api.client.get(f"/schema/{page}")
        assert response.status_code == 404, page
        assert "<script" not in response.text
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
