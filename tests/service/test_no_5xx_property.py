"""No input produces a 5xx: hypothesis posts random bodies, headers, cookies and path segments to every
route, with and without valid credentials, for every format on SQLite, and for one format with users and
sessions on PostgreSQL and with sessions and rate limits on Redis (where a NUL byte in a user name used to
be a 503: the database refused the value and the service called it an outage)."""

from __future__ import annotations

import json
import string
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from formats import FormatName
from service.app import create_app
from service.auth.roles import Role
from service.settings import RateLimit, Secret, Settings
from tests.service.conftest import BASE_URL, CHEAP_ARGON2, CSRF, PASSWORDS, STORE_BACKENDS, Api, on_backend

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
    ("GET", "/"),
    ("GET", "/page/{name}"),
    ("GET", "/page/inspect"),
    ("POST", "/page/lab/{name}"),
    ("POST", "/page/lab/expired"),
    ("POST", "/auth/lab/rewind"),
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
HOSTILE_NAMES = [
    "a\x00b",
    "alice\n",
    "\ud800",
    "x" * 300,
    "\ufb03" * 30,
    "ad\u0000min",
    " admin",
    "\u212aelly",  # KELVIN SIGN: case-folds to "k", so "\u212aelly" would be "kelly" if admitted
    "\uff41dmin",  # FULLWIDTH a: NFKC makes it "admin"
    "admin\u0130",  # I WITH DOT: its lower case is two characters
]
"""Names a database may refuse as data (NUL, a lone surrogate, too long for the column, control characters)
and names that would be another user's under Unicode case folding or NFKC: the rule admits ASCII only."""
field_values = st.one_of(
    st.text(max_size=70),
    st.integers(),
    st.none(),
    st.sampled_from(["admin", "user", "alice"]),
    st.sampled_from(HOSTILE_NAMES),
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
segments = st.one_of(
    st.text(alphabet=string.ascii_letters + string.digits + "._~-%@!$&'()*+=:", min_size=1, max_size=40),
    st.sampled_from(["a%00b", "%00", "alice%0A", "%ED%A0%80", "%C0%80", "x" * 300, "%EF%AC%83" * 30]),
)


def mutate(token: str, data: st.DataObject) -> str:
    position = data.draw(st.integers(0, max(0, len(token) - 1)))
    replacement = data.draw(st.text(alphabet=string.ascii_letters + string.digits + "-_.=", max_size=3))
    return token[:position] + replacement + token[position + 1 :]


def tokens_of(api: Api) -> dict[str, str]:
    """A valid admin access token and a valid refresh token."""
    admin = api.token_as("admin")
    api.login_as("alice")
    refresh = api.refresh_cookie
    assert refresh is not None
    return {"admin": admin, "refresh": refresh}


@pytest.fixture
def tokens(api) -> dict[str, str]:
    """Made once per format."""
    return tokens_of(api)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_input_produces_a_5xx(api, tokens: dict[str, str], data: st.DataObject) -> None:
    assert_no_5xx(api, tokens, data)


@pytest.fixture(params=STORE_BACKENDS)
def backend_api(request: pytest.FixtureRequest, tmp_path: Path, clock, policy) -> Iterator[Api]:
    """One format on each backend: SQLite; users and sessions on PostgreSQL; sessions on Redis."""
    settings = Settings(
        format=FormatName.PASETO_V4_PUBLIC,
        database_url=Secret(f"sqlite+aiosqlite:///{tmp_path / 'users.db'}"),
        keys_dir=tmp_path / "keys",
        issuer=policy.issuer,
        audience=policy.audience,
        argon2=CHEAP_ARGON2,
        login_rate_limit=RateLimit(count=1000, period=60),
    )
    settings, stores = on_backend(request, request.param, settings)
    app = create_app(settings, stores=stores, clock=clock)
    with TestClient(app, base_url=BASE_URL) as client:
        client.headers.update(CSRF)
        api = Api(client=client, services=app.state.services)
        api.add_user("admin", PASSWORDS["admin"], Role.ADMIN)
        api.add_user("alice", PASSWORDS["alice"], Role.USER)
        yield api
        if stores is not None:
            with client.portal() as portal:
                portal.call(stores.shutdown)


@pytest.fixture
def backend_tokens(backend_api: Api) -> dict[str, str]:
    return tokens_of(backend_api)


@pytest.mark.parametrize("backend_api", ["postgresql", "redis"], indirect=True)
@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_input_produces_a_5xx_on_postgresql_and_redis(
    backend_api: Api, backend_tokens: dict[str, str], data: st.DataObject
) -> None:
    assert_no_5xx(backend_api, backend_tokens, data)


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=ascii)
def test_a_hostile_user_name_is_a_400_wherever_a_name_enters(backend_api: Api, name: str) -> None:
    """The login body, the admin create body and the admin path: a 400 with a code, on every backend."""
    api = backend_api
    admin = api.bearer("admin")
    quoted = quote(name.encode("utf-8", "surrogatepass"), safe="")
    as_json = {**admin, "Content-Type": "application/json"}  # json.dumps escapes a lone surrogate

    def body(**fields: str) -> str:
        return json.dumps(fields)

    login = body(username=name, password="alice-password-1")
    create = body(username=name, password="password-123", role="user")
    promote = body(role="admin")  # a valid body: only the name in the path is wrong
    answers = {
        "login": api.client.post("/auth/login", headers=as_json, content=login),
        "create": api.client.post("/admin/users", headers=as_json, content=create),
        "change-role": api.client.patch(f"/admin/users/{quoted}", headers=as_json, content=promote),
    }
    for where, response in answers.items():
        assert response.status_code == 400, (where, response.status_code, response.text)
        assert response.json()["code"] == "invalid_request", where
    users = {user["username"] for user in api.client.get("/admin/users", headers=admin).json()}
    assert users == {"admin", "alice"}


def assert_no_5xx(api: Api, tokens: dict[str, str], data: st.DataObject) -> None:
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
    headers["X-Requested-With"] = data.draw(st.sampled_from(["fetch", "", " "]))
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
