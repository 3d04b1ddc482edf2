"""``GET /``: the teaching page, its static files, and the few routes only it uses.

The page is three files in ``service/page/`` (HTML, one JavaScript module, one stylesheet), served as they
are: no build step, no CDN, no inline script or style, so the Content-Security-Policy can be strict.

* ``GET /`` and ``GET /page/{app.js,page.css}``: the page, with :data:`SECURITY_HEADERS`.
* ``GET /page/inspect`` (bearer): the caller's access token taken apart, beside the same claims as every
  format would carry them (:func:`service.teaching.comparison`).
* ``POST /page/lab/{expired,wrong-kind}`` (bearer): hostile tokens the attack panel cannot make itself.
* ``POST /auth/lab/rewind`` (refresh cookie + ``X-Requested-With``): plays the thief of the replay attack:
  rotates the caller's refresh token, then puts the used-up token back in the cookie, as an attacker who
  copied it earlier would present it. Under ``/auth`` because that is where the cookie is sent.
* ``GET /page/failure-modes.md``: the failure-mode matrix the attack panel links to, when the service runs
  from a source tree that has ``docs/failure-modes.md`` (404 otherwise).

The lab routes answer 404 when ``TOKENBENCH_ENV=production``: a production service has no use for them.
"""

from __future__ import annotations

import functools
from importlib.resources import files
from pathlib import Path
from typing import Any, Final

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.status_codes import HTTP_200_OK

from service.auth.csrf import requires_csrf_header
from service.auth.guards import claims_of
from service.auth.middleware import EXCLUDE_FROM_AUTH
from service.errors import NotFound
from service.routes.auth import _refresh_cookie, presented_refresh_token
from service.services import Services, ServicesDep
from service.settings import Environment
from service.teaching import Anatomy, comparison, expired_specimen, wrong_kind_specimen

__all__ = ["CONTENT_SECURITY_POLICY", "SECURITY_HEADERS", "route_handlers"]

CONTENT_SECURITY_POLICY: Final = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
"""Only the page's own files run or style it; nothing inline, nothing from elsewhere, never framed."""

SECURITY_HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}

_ASSETS: Final = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "page.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
_OPEN: Final = {EXCLUDE_FROM_AUTH: True}
_MATRIX: Final = Path(__file__).resolve().parents[2] / "docs" / "failure-modes.md"


@functools.cache
def _asset(name: str) -> bytes:
    return files("service").joinpath("page", name).read_bytes()


def _headers(services: Services, cache: str) -> dict[str, str]:
    headers = {**SECURITY_HEADERS, "Cache-Control": cache}
    if services.settings.cookie_secure:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    return headers


def _serve(services: Services, name: str) -> Response[bytes]:
    return Response(_asset(name), media_type=_ASSETS[name], headers=_headers(services, "no-cache"))


@get("/", opt=_OPEN, include_in_schema=False)
async def index(services: ServicesDep) -> Response[bytes]:
    """The teaching page."""
    return _serve(services, "index.html")


@get("/page/{name:str}", opt=_OPEN, include_in_schema=False)
async def asset(name: FromPath[str], services: ServicesDep) -> Response[bytes]:
    """The page's script and stylesheet (a fixed list: nothing else is readable here)."""
    if name == "failure-modes.md":
        if not _MATRIX.is_file():
            raise NotFound("the failure-mode matrix is in the source tree: docs/failure-modes.md")
        return Response(
            _MATRIX.read_bytes(),
            media_type="text/plain; charset=utf-8",
            headers=_headers(services, "no-cache"),
        )
    if name not in _ASSETS or name == "index.html":
        raise NotFound(f"no page file {name[:64]}")
    return _serve(services, name)


class Inspection(msgspec.Struct, frozen=True):
    """``GET /page/inspect``: the running format's token and the same claims in every format."""

    running: str
    formats: tuple[Anatomy, ...]


@get(
    "/page/inspect",
    security=[{"BearerToken": []}],
    summary="The caller's access token taken apart, beside the same claims in every format",
)
async def inspect(request: Request[Any, Any, Any], services: ServicesDep) -> Response[Inspection]:
    """Read from the verified token: no store is asked."""
    token = request.auth
    assert isinstance(token, str)
    running = services.window.format_of(token)  # during a format switch, maybe an accepted format
    views = comparison(claims_of(request), running=running, token=token)
    return Response(
        Inspection(running=running.name.value, formats=views), headers={"Cache-Control": "no-store"}
    )


class Specimen(msgspec.Struct, frozen=True):
    """A hostile token for the attack panel."""

    token: str


def _lab_enabled(services: Services) -> None:
    if services.settings.env is Environment.PRODUCTION:
        raise NotFound("the lab routes are off in production")


@post("/page/lab/{name:str}", status_code=HTTP_200_OK, security=[{"BearerToken": []}], summary="Lab specimen")
async def specimen(
    request: Request[Any, Any, Any], name: FromPath[str], services: ServicesDep
) -> Response[Specimen]:
    """``expired``: the caller's access token, expired; ``wrong-kind``: a refresh token of no session."""
    _lab_enabled(services)
    makers = {"expired": expired_specimen, "wrong-kind": wrong_kind_specimen}
    if name not in makers:
        raise NotFound(f"no lab specimen {name[:64]}")
    token = makers[name](services.fmt, claims_of(request), now=services.clock())
    return Response(Specimen(token), headers={"Cache-Control": "no-store"})


class Rewound(msgspec.Struct, frozen=True):
    """What ``/auth/lab/rewind`` did."""

    grace: int
    """Seconds a rotated token is still taken for a retry (``TOKENBENCH_REFRESH_GRACE``)."""


@post(
    "/auth/lab/rewind",
    opt=_OPEN,
    guards=[requires_csrf_header],
    status_code=HTTP_200_OK,
    include_in_schema=False,
)
async def rewind(request: Request[Any, Any, Any], services: ServicesDep) -> Response[Rewound]:
    """Rotate the cookie's refresh token, then set the used-up token back: the replay attack's set-up."""
    _lab_enabled(services)
    presented = presented_refresh_token(request, services)
    pair = await services.sessions.refresh(presented)
    return Response(
        Rewound(grace=services.settings.refresh_grace),
        headers={"Cache-Control": "no-store"},
        cookies=[_refresh_cookie(services, presented, pair.refresh_expires_in)],  # never past the session
    )


route_handlers: Final = [index, asset, inspect, specimen, rewind]
