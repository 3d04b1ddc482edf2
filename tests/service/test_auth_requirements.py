"""The bearer middleware's route requirements (``service.auth.guards``) on a small app of its own.

The service's routes are covered by ``test_http_contract.py``; these are the layering rules no service
route exercises yet: every layer's requirement applies (as Litestar guards did), a requirement switches
authentication back on for a route that opted out, and a hand-written ``opt`` value fails closed.
The rules do not depend on the format, so one format is enough.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar, Request, Router, WebSocket, get, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.middleware import DefineMiddleware
from litestar.testing import TestClient

from formats import ClaimPolicy, FormatName, Kind, TokenFormat, ephemeral
from service.auth.guards import claims_of, requires_permission, requires_role
from service.auth.middleware import EXCLUDE_FROM_AUTH, BearerAuthMiddleware, check_requirements
from service.auth.roles import Permission, Role, permissions_of
from service.errors import exception_handlers
from service.verifier.app import create_verifier_app
from service.verifier.plugin import TokenVerifier


@get("/me")
async def who(request: Request[Any, Any, Any]) -> dict[str, str]:
    return {"sub": claims_of(request).sub}


@get("/excluded-but-admin", opt={EXCLUDE_FROM_AUTH: True, **requires_role(Role.ADMIN)})
async def excluded_but_admin(request: Request[Any, Any, Any]) -> dict[str, str]:
    return {"sub": claims_of(request).sub}


@get("/hand-written", opt={"requires_role": "admin"})
async def hand_written() -> dict[str, str]:
    return {"status": "reached"}


@get("/users", opt=requires_role(Role.USER, Role.ADMIN))
async def users_or_admins() -> dict[str, str]:
    return {"status": "reached"}


@get("/write", opt=requires_permission(Permission.USERS_WRITE))
async def write() -> dict[str, str]:
    return {"status": "reached"}


@pytest.fixture
def fmt(policy: ClaimPolicy, clock: Any) -> TokenFormat:
    return ephemeral(FormatName.PASETO_V4_PUBLIC, policy=policy, clock=clock)


@pytest.fixture
def client(fmt: TokenFormat) -> Iterator[TestClient[Litestar]]:
    admin = Router("/admin", opt=requires_role(Role.ADMIN), route_handlers=[users_or_admins, write])
    app = Litestar(
        [who, excluded_but_admin, hand_written, admin],
        middleware=[DefineMiddleware(BearerAuthMiddleware, fmt=fmt)],
        exception_handlers=exception_handlers,
        openapi_config=None,
    )
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def bearer(fmt: TokenFormat, make_claims: Any, role: Role) -> dict[str, str]:
    claims = make_claims(sub=f"a-{role}", role=role.value, perms=permissions_of(role))
    return {"Authorization": f"Bearer {fmt.issue(claims, kind=Kind.ACCESS)}"}


def test_a_route_with_no_requirement_needs_a_token_only(client, fmt, make_claims) -> None:
    assert client.get("/me").json()["code"] == "missing_credentials"
    assert client.get("/me", headers=bearer(fmt, make_claims, Role.USER)).json() == {"sub": "a-user"}


def test_a_handler_requirement_does_not_replace_its_routers(client, fmt, make_claims) -> None:
    """The handler lets users in, its router only admins: both apply, as guards on both layers did."""
    response = client.get("/admin/users", headers=bearer(fmt, make_claims, Role.USER))
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_role"
    assert client.get("/admin/users", headers=bearer(fmt, make_claims, Role.ADMIN)).status_code == 200


def test_the_router_role_and_the_handler_permission_both_apply(client, fmt, make_claims) -> None:
    admin_without_writes = make_claims(sub="a", role="admin", perms=permissions_of(Role.USER))
    headers = {"Authorization": f"Bearer {fmt.issue(admin_without_writes, kind=Kind.ACCESS)}"}
    response = client.get("/admin/write", headers=headers)
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_permission"
    assert client.get("/admin/write", headers=bearer(fmt, make_claims, Role.ADMIN)).status_code == 200


def test_a_requirement_switches_authentication_back_on(client, fmt, make_claims) -> None:
    """``exclude_from_auth`` beside a requirement: the requirement wins, never an unchecked route."""
    assert client.get("/excluded-but-admin").json()["code"] == "missing_credentials"
    response = client.get("/excluded-but-admin", headers=bearer(fmt, make_claims, Role.USER))
    assert response.json()["code"] == "insufficient_role"
    response = client.get("/excluded-but-admin", headers=bearer(fmt, make_claims, Role.ADMIN))
    assert response.json() == {"sub": "a-admin"}


def test_a_hand_written_requirement_fails_closed(client, fmt, make_claims) -> None:
    """``opt={"requires_role": "admin"}`` is not a Requirement: the route answers 500, never 200."""
    response = client.get("/hand-written", headers=bearer(fmt, make_claims, Role.ADMIN))
    assert response.status_code == 500
    assert "reached" not in response.text


def test_options_passes_unauthenticated_as_before(client) -> None:
    """Litestar's OPTIONS answer (204, ``Allow``) needs no token, as with its authentication middleware."""
    response = client.options("/me")
    assert response.status_code == 204
    assert "access-control-allow-origin" not in response.headers


def test_options_needs_a_token_where_the_route_states_a_requirement(client) -> None:
    """``OPTIONS /admin/...`` answered 401 when the requirements were guards; it still does."""
    response = client.options("/admin/write")
    assert response.status_code == 401
    assert "allow" not in response.headers


def test_a_malformed_requirement_stops_start_up(fmt) -> None:
    """``check_requirements`` (run by ``create_app`` and by the plugin at start-up) raises, naming the key."""
    app = Litestar([hand_written], middleware=[DefineMiddleware(BearerAuthMiddleware, fmt=fmt)])
    with pytest.raises(TypeError, match="requires_role"):
        check_requirements(app)


def test_a_websocket_route_with_a_requirement_needs_a_token(fmt, make_claims) -> None:
    @websocket("/ws", opt=requires_role(Role.ADMIN))
    async def ws(socket: WebSocket[Any, Any, Any]) -> None:
        await socket.accept()
        await socket.send_text("admin data")
        await socket.close()

    middleware = [DefineMiddleware(BearerAuthMiddleware, fmt=fmt)]
    app = Litestar([ws], middleware=middleware, exception_handlers=exception_handlers)
    with TestClient(app) as test_client:
        for headers in ({}, bearer(fmt, make_claims, Role.USER)):
            connect = test_client.websocket_connect
            with pytest.raises(WebSocketDisconnect), connect("/ws", headers=headers) as refused:
                refused.receive_text()
        with test_client.websocket_connect("/ws", headers=bearer(fmt, make_claims, Role.ADMIN)) as s:
            assert s.receive_text() == "admin data"


class _RingKeys:
    """A key-set client over an in-memory ring: what the plugin's middleware awaits."""

    def __init__(self, fmt: TokenFormat) -> None:
        self.fmt = fmt

    async def verify(self, token: str) -> Any:
        return self.fmt.verify(token, kind=Kind.ACCESS)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None


def test_the_verifier_plugin_enforces_the_same_requirements(fmt, make_claims) -> None:
    """``TokenVerifier`` on another app: a route's ``requires_role`` is checked there too (403)."""
    admin = Router("/admin", opt=requires_role(Role.ADMIN), route_handlers=[users_or_admins, write])
    app = Litestar(
        [who, admin],
        plugins=[TokenVerifier(client=_RingKeys(fmt))],
        exception_handlers=exception_handlers,  # type: ignore[arg-type]
    )
    with TestClient(app) as test_client:
        response = test_client.get("/admin/users", headers=bearer(fmt, make_claims, Role.USER))
        assert (response.status_code, response.json()["code"]) == (403, "insufficient_role")
        admin_headers = bearer(fmt, make_claims, Role.ADMIN)
        assert test_client.get("/admin/users", headers=admin_headers).status_code == 200
        no_perms = fmt.issue(make_claims(sub="alice", role="user", perms=()), kind=Kind.ACCESS)
        response = test_client.get("/me", headers={"Authorization": f"Bearer {no_perms}"})
        assert response.json() == {"sub": "alice"}  # /me of this app states no requirement
        assert test_client.get("/me").json()["code"] == "missing_credentials"


def test_the_verify_only_service_checks_profile_read(settings, fmt, make_claims) -> None:
    """The verify-only ``/me`` needs ``profile:read`` as the issuer's does."""
    app = create_verifier_app(settings, client=_RingKeys(fmt))  # type: ignore[arg-type]
    no_perms = fmt.issue(make_claims(sub="alice", perms=()), kind=Kind.ACCESS)
    with TestClient(app) as test_client:
        response = test_client.get("/me", headers={"Authorization": f"Bearer {no_perms}"})
    assert (response.status_code, response.json()["code"]) == (403, "insufficient_permission")
