"""``/schema``: the OpenAPI document as JSON, and no interactive page, in every environment.

Litestar's default ``/schema`` pages (Redoc, Swagger UI, RapiDoc, Elements, Scalar) load their JavaScript
from a CDN (unpkg, jsDelivr, cdn.redoc.ly) with no pinned digest: whoever controls that URL runs script on
this origin, the origin of ``/auth/refresh``. The refresh cookie is ``HttpOnly``, but a script on the
origin can still call ``/auth/refresh`` and read the access token it returns. Self-hosting a pinned copy
would mean shipping and updating a megabyte of third-party JavaScript with the service; instead the
service serves the document only (``/schema`` and ``/schema/openapi.json``), for any OpenAPI viewer to
load from elsewhere (``docs/service.md``). Every ``/schema`` response carries a Content-Security-Policy
that lets nothing load or run (``default-src 'none'``), and ``X-Content-Type-Options: nosniff``, so even
a browser opening the JSON treats it as data.
"""

from __future__ import annotations

from typing import Final

from litestar import Router
from litestar.datastructures import ResponseHeader
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from formats import TokenFormat
from service.auth.middleware import EXCLUDE_FROM_AUTH

__all__ = ["SCHEMA_CSP", "SCHEMA_PATH", "openapi_config"]

SCHEMA_PATH: Final = "/schema"
SCHEMA_CSP: Final = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
"""Nothing may load, run, submit or frame: the schema is data."""


def openapi_config(fmt: TokenFormat, *, version: str) -> OpenAPIConfig:
    """The OpenAPI document of the service for ``fmt``: JSON at ``/schema`` and ``/schema/openapi.json``."""
    return OpenAPIConfig(
        title="tokenbench",
        version=version,
        description=f"One authentication service on JWT and PASETO v4; this instance: {fmt.name.value}.",
        path=SCHEMA_PATH,
        render_plugins=[JsonRenderPlugin(path=["/openapi.json", "/"])],
        openapi_router=Router(
            SCHEMA_PATH,
            route_handlers=[],
            include_in_schema=False,
            opt={EXCLUDE_FROM_AUTH: True},
            response_headers=[
                ResponseHeader(name="Content-Security-Policy", value=SCHEMA_CSP),
                ResponseHeader(name="X-Content-Type-Options", value="nosniff"),
            ],
        ),
        components=Components(
            security_schemes={
                "BearerToken": SecurityScheme(
                    type="http",
                    scheme="bearer",
                    bearer_format=fmt.name.value,
                    description=f"An access token from POST /auth/login ({fmt.name.value}).",
                )
            }
        ),
    )
