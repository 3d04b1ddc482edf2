"""CSRF: the routes that act on the refresh cookie need the header ``X-Requested-With``.

A browser attaches cookies to requests that other sites make: a form on ``evil.example`` that posts to
``/auth/logout`` would carry the victim's refresh cookie. ``SameSite=Strict`` stops that only for other
*sites*; a sibling subdomain (``blog.example.com`` next to ``api.example.com``) is the same site, so its
pages get the cookie sent. A custom request header closes the gap: an HTML form cannot set one, and a
script on another origin can only send one after a CORS preflight that this service never grants (it has
no CORS configuration, so the preflight ``OPTIONS`` is refused and the browser never sends the request).

Any non-empty value counts (the page sends ``fetch``; the CLI, the tutorial and the tools send their own
name). Without it the answer is 403 ``csrf_header_missing``, before the cookie is even read.
"""

from __future__ import annotations

from typing import Any, Final

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from service.errors import CsrfHeaderMissing

__all__ = ["CSRF_HEADER", "requires_csrf_header"]

CSRF_HEADER: Final = "X-Requested-With"
_CSRF_HEADER_KEY: Final = CSRF_HEADER.lower().encode()


async def requires_csrf_header(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Let the request through only if it carries a non-empty ``X-Requested-With`` header."""
    for name, value in connection.scope["headers"]:
        if name == _CSRF_HEADER_KEY and value.strip():
            return
    raise CsrfHeaderMissing(
        f"send the header {CSRF_HEADER} (any value) with this request: "
        "it proves the request did not come from a form or page on another site"
    )
