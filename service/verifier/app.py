"""``tokenbench serve --verify-only``: a resource server with no private key and no database.

It verifies access tokens with the public keys the issuer publishes (``TOKENBENCH_ISSUER_URL``, followed by
a :class:`KeySetClient`) and serves ``GET /me``, ``GET /health`` (where its keys come from and when they
were fetched; 503 until it has a key set) and ``GET /health/live``.
"""

from __future__ import annotations

import logging
import os
from typing import Final

import msgspec
from litestar import Litestar, Response, get

from service.app import MAX_BODY_BYTES
from service.auth.middleware import EXCLUDE_FROM_AUTH
from service.errors import exception_handlers
from service.routes import health, me
from service.settings import Settings, SettingsError
from service.verifier.client import KeySetClient, KeySetStatus
from service.verifier.plugin import TokenVerifier

__all__ = ["VerifierHealth", "app_from_env", "create_verifier_app"]

VERIFY_ONLY: Final = "verify-only"


class VerifierHealth(msgspec.Struct, frozen=True):
    """``status`` is ``ok`` once a key set was fetched (it may be stale: see ``keys.last_error``)."""

    status: str
    format: str
    mode: str
    keys: KeySetStatus


def create_verifier_app(settings: Settings, *, client: KeySetClient | None = None) -> Litestar:
    """The verify-only service for ``settings`` (``issuer_url`` and an asymmetric ``format``)."""
    if client is None:
        if settings.issuer_url is None:
            raise SettingsError("TOKENBENCH_ISSUER_URL", "is required by a verify-only service")
        client = KeySetClient(
            settings.issuer_url,
            settings.format,
            policy=settings.policy,
            default_max_age=settings.keys_reload,
        )
    keys = client

    @get("/health", opt={EXCLUDE_FROM_AUTH: True}, summary="Where the keys come from, and since when")
    async def verifier_health() -> Response[VerifierHealth]:
        """200 once a key set was fetched (kept while the issuer is down), else 503."""
        body = VerifierHealth(
            status="ok" if keys.has_keys else "unavailable",
            format=keys.format_name.value,
            mode=VERIFY_ONLY,
            keys=keys.status(),
        )
        return Response(
            body, status_code=200 if keys.has_keys else 503, headers={"Cache-Control": "no-store"}
        )

    return Litestar(
        route_handlers=[*me.route_handlers, verifier_health, health.live],
        plugins=[TokenVerifier(client=client)],
        exception_handlers=exception_handlers,
        request_max_body_size=MAX_BODY_BYTES,
        openapi_config=None,
        logging_config=None,
    )


def app_from_env() -> Litestar:
    """The ASGI server's factory for ``serve --verify-only`` (settings already validated by the CLI)."""
    logger = logging.getLogger("tokenbench")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("tokenbench: %(levelname)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    return create_verifier_app(Settings.from_env(os.environ))
