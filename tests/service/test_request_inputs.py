"""What enters through request bodies and paths: duplicate JSON keys are refused on every route that
reads a body; bad user names are 400 wherever a name enters, never a 5xx."""

from __future__ import annotations

import pytest


def assert_400(response, code: str) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["code"] == code
    assert response.json()["status_code"] == 400


# --- duplicate keys --------------------------------------------------------------------------------


def test_a_login_body_with_a_duplicate_key_is_refused(api) -> None:
    body = b'{"username": "mallory", "username": "alice", "password": "alice-password-1"}'
    response = api.client.post("/auth/login", content=body, headers={"Content-Type": "application/json"})
    assert_400(response, "duplicate_key")
    assert "'username'" in response.json()["detail"]
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        (
            "POST",
            "/admin/users",
            b'{"username": "bob", "password": "bob-password-1", "role": "user", "role": "admin"}',
        ),
        ("PATCH", "/admin/users/alice", b'{"role": "user", "role": "admin"}'),
        ("PATCH", "/admin/users/alice", b'{"role": "user", "\\u0072ole": "admin"}'),  # the same key, escaped
    ],
    ids=["create", "change-role", "escaped-spelling"],
)
def test_an_admin_body_with_a_duplicate_key_is_refused_and_changes_nothing(api, method, path, body) -> None:
    response = api.client.request(
        method, path, content=body, headers={"Content-Type": "application/json", **api.bearer("admin")}
    )
    assert_400(response, "duplicate_key")
    users = {
        u["username"]: u["role"] for u in api.client.get("/admin/users", headers=api.bearer("admin")).json()
    }
    assert users == {"admin": "admin", "alice": "user"}


def test_a_duplicate_key_in_a_nested_object_is_refused_too(api) -> None:
    body = b'{"username": "alice", "password": "alice-password-1", "x": {"a": 1, "a": 2}}'
    response = api.client.post("/auth/login", content=body, headers={"Content-Type": "application/json"})
    assert_400(response, "duplicate_key")


def test_equal_values_under_distinct_keys_are_fine(api) -> None:
    body = b'{"username": "alice", "password": "alice-password-1"}'
    response = api.client.post("/auth/login", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200
