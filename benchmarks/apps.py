"""Comparison apps for the request-level benchmark, served exactly like the service (granian, one worker).

Both apps read the same ``TOKENBENCH_*`` settings as the service (keys directory, issuer, audience,
leeway), so they verify the very tokens the service's ``POST /auth/login`` issues, and both expose the
same two routes: ``GET /open`` (no authentication; the baseline) and ``GET /me`` (bearer token; the
service's ``{"sub", "username", "role", "permissions"}``).

* :func:`minimal_guard_app`: the least Litestar code that does the service's verification: one
  ``async def`` guard that finds the header in the ASGI scope, calls the same ``TokenFormat.verify`` and
  stores the claims as ``request.user``. It does less than the service (no check for a second
  ``Authorization`` header, no permission check) and pays what every Litestar guard pays: Litestar hands
  each guard a ``copy()`` of the route handler on every request. The service checks its route
  requirements in its authentication middleware instead, so it can cost less than this guard
  (``docs/service.md``, "The per-request path").
  The service's auth overhead is compared with this one's (target: within 1.25x), and its ``GET /me``
  req/s (target: at least 0.95x).
* :func:`jwtauth_app`: the same route behind Litestar's own ``JWTAuth`` (pyjwt under
  ``litestar.security.jwt``), the way its documentation sets it up. ``jwt-hs256`` only.

Serve one with ``python -m granian --interface asgi --factory benchmarks.apps:minimal_guard_app``.
"""

from __future__ import annotations

import json
import os
from base64 import urlsafe_b64decode
from typing import Any, cast

from litestar import Litestar, Request, get
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.security.jwt import JWTAuth, Token

from formats import Claims, FormatName, Kind, TokenError, load
from formats.keys import list_key_files
from service.settings import Settings

__all__ = ["jwtauth_app", "minimal_guard_app"]

Connection = ASGIConnection[Any, Any, Any, Any]


@get("/open")
async def open_route() -> dict[str, str]:
    """The baseline: the same framework, server and response path, no authentication."""
    return {"status": "ok"}


def minimal_guard_app() -> Litestar:
    """``GET /me`` behind one hand-written async guard calling ``TokenFormat.verify``."""
    settings = Settings.from_env(os.environ)
    fmt = load(settings.format, settings.keys_dir, policy=settings.policy)

    async def requires_access_token(connection: Connection, _: BaseRouteHandler) -> None:
        for name, value in connection.scope["headers"]:
            if name == b"authorization" and value.startswith(b"Bearer "):
                try:
                    connection.scope["user"] = fmt.verify(value[7:].decode("latin-1"), kind=Kind.ACCESS)
                except TokenError as exc:
                    raise NotAuthorizedException(exc.code) from exc
                return
        raise NotAuthorizedException("missing bearer token")

    @get("/me", guards=[requires_access_token])
    async def me(request: Request[Claims, Any, Any]) -> dict[str, object]:
        claims = request.user
        return {"sub": claims.sub, "username": claims.sub, "role": claims.role, "permissions": claims.perms}

    return Litestar([open_route, me], openapi_config=None)


def _hs256_secret(settings: Settings) -> bytes:
    files = list_key_files(settings.keys_dir, FormatName.JWT_HS256)
    if not files:
        raise RuntimeError(f"no jwt-hs256 key in {settings.keys_dir}; run `tokenbench keys generate`")
    jwk = json.loads(files[-1].path.read_text(encoding="utf-8"))
    k: str = jwk["k"]
    return urlsafe_b64decode(k + "=" * (-len(k) % 4))


def jwtauth_app() -> Litestar:
    """``GET /me`` behind Litestar's ``JWTAuth`` with the service's HS256 key, issuer and audience."""
    settings = Settings.from_env(os.environ)

    async def retrieve_user(token: Token, _: Connection) -> dict[str, Any]:
        return {"sub": token.sub, "role": token.extras.get("role")}

    auth = JWTAuth[dict[str, Any], Token](
        # pyjwt takes the secret as bytes; JWTAuth only passes it through (annotated str).
        token_secret=cast(str, _hs256_secret(settings)),
        retrieve_user_handler=retrieve_user,
        exclude=["/open"],
        accepted_audiences=[settings.audience] if settings.audience else None,
        accepted_issuers=[settings.issuer] if settings.issuer else None,
    )

    @get("/me")
    async def me(request: Request[dict[str, Any], Token, Any]) -> dict[str, object]:
        extras = request.auth.extras
        return {
            "sub": request.auth.sub,
            "username": request.auth.sub,
            "role": extras.get("role"),
            "permissions": extras.get("perms", []),
        }

    return Litestar([open_route, me], on_app_init=[auth.on_app_init], openapi_config=None)
