"""No input produces a 5xx: hypothesis posts random bodies, headers, cookies and path segments to every
route, with and without valid credentials, for every format."""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROUTES = [
    ("POST", "/auth/login"),
    ("POST", "/auth/refresh"),
    ("POST", "/auth/logout"),
    ("POST", "/auth/logout-all"),
    ("GET", "/me"),
    ("GET", "/admin/users"),
    ("POST", "/admin/users"),
    ("PATCH", "/admin/users/{name}"),
    ("GET", "/.well-known/{name}"),
    ("GET", "/health"),
    ("DELETE", "/me"),
]

header_text = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0xFF, exclude_characters=",;"), max_size=300
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)
field_values = st.one_of(
    st.text(max_size=70), st.integers(), st.none(), st.sampled_from(["admin", "user", "alice"])
)
bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries(
        {},
        optional={
            "username": field_values,
            "password": field_values,
            "role": field_values,
            "x": field_values,
        },
    ).map(lambda v: json.dumps(v).encode()),
)
segments = st.text(
    alphabet=string.ascii_letters + string.digits + "._~-%@!$&'()*+=:", min_size=1, max_size=40
)


def mutate(token: str, data: st.DataObject) -> str:
    position = data.draw(st.integers(0, max(0, len(token) - 1)))
    replacement = data.draw(st.text(alphabet=string.ascii_letters + string.digits + "-_.=", max_size=3))
    return token[:position] + replacement + token[position + 1 :]


@pytest.fixture
def tokens(api) -> dict[str, str]:
    """A valid admin access token and a valid refresh token, made once per format."""
    admin = api.token_as("admin")
    api.login_as("alice")
    return {"admin": admin, "refresh": api.refresh_cookie}


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_input_produces_a_5xx(api, tokens: dict[str, str], data: st.DataObject) -> None:
    method, path = data.draw(st.sampled_from(ROUTES))
    path = path.format(name=data.draw(segments))
    headers = {}
    authorization = data.draw(
        st.one_of(
            st.none(),
            st.just(f"Bearer {tokens['admin']}"),
            st.just(f"Bearer {mutate(tokens['admin'], data)}"),
            st.just(f"Bearer {tokens['refresh']}"),
            header_text,
            header_text.map(lambda t: f"Bearer {t}"),
        )
    )
    if authorization is not None:
        headers["Authorization"] = authorization
    cookie = data.draw(
        st.one_of(
            st.none(),
            st.just(tokens["refresh"]),
            st.just(mutate(tokens["refresh"], data)),
            st.just(tokens["admin"]),
            header_text,
        )
    )
    if cookie is not None:
        headers["Cookie"] = f"{api.cookie.name}={cookie}"
    headers["Content-Type"] = data.draw(
        st.sampled_from(
            ["application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
        )
    )
    body = data.draw(bodies) if method != "GET" else b""

    api.client.cookies.clear()
    raw_headers = [(name.encode(), value.encode("latin-1")) for name, value in headers.items()]
    response = api.client.request(method, path, headers=raw_headers, content=body)

    assert response.status_code < 500, (method, path, headers, body, response.text)
    if response.status_code >= 400:
        payload = response.json()
        assert set(payload) == {"status_code", "detail", "code"}
        assert payload["status_code"] == response.status_code
