"""The app factory: builds the pieces from the settings and wires them into one Litestar app.

    create_app(settings)                          # what `tokenbench serve` runs, in each worker
    create_app(settings, stores=..., clock=...)   # tests and tools inject their own

Nothing here reads the environment except :func:`app_from_env`, the import string the ASGI server
calls in each worker process (``service.app:app_from_env``).
"""

from __future__ import annotations

import logging
import os
from importlib.metadata import PackageNotFoundError, version
from typing import Final

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware

from formats import Clock, TokenFormat
from formats.claims import utc_now
from formats.migration import Migration
from service.accounts import Accounts
from service.auth.middleware import BearerAuthMiddleware, check_requirements
from service.auth.sessions import SessionManager
from service.errors import exception_handlers
from service.keyring import KeyReloader, load_format
from service.migration import SeenReporter, load_accepted
from service.passwords import PasswordHasher
from service.request import StrictJsonRequest
from service.routes import admin, auth, health, me, page, schema, well_known
from service.services import Services
from service.settings import Settings
from service.stores import Stores, open_stores
from service.throttle import LoginThrottle

__all__ = ["MAX_BODY_BYTES", "app_from_env", "create_app"]

MAX_BODY_BYTES: Final = 64 * 1024
"""Every request body the API accepts is tiny; bigger ones are 413 before parsing."""


def _version() -> str:
    try:
        return version("tokenbench")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        return "0"


def create_app(
    settings: Settings,
    *,
    stores: Stores | None = None,
    clock: Clock = utc_now,
    fmt: TokenFormat | None = None,
    accepted: tuple[TokenFormat, ...] | None = None,
    hasher: PasswordHasher | None = None,
) -> Litestar:
    """The service for ``settings``. Injected ``stores`` are started (tables created) but not closed.

    ``fmt`` is the issued format and ``accepted`` the formats still accepted (default: the rings of
    ``settings.accept_formats``, read from the key directory).

    ``app.state.services`` holds the wired :class:`service.services.Services` (tests and tools use it
    to seed users or to mint tokens with the app's own key ring).
    """
    reloader = None
    if fmt is None:  # the app's own ring follows the key directory; an injected one is the caller's
        fmt = load_format(settings, clock=clock)
        reloader = KeyReloader(fmt, settings)
    if accepted is None:
        accepted = tuple(load_accepted(settings, name, clock=clock) for name in settings.accept_formats)
    window = Migration(fmt, accepted, clock=clock)
    reporter = SeenReporter(window) if accepted else None
    owns_stores = stores is None
    stores = stores or open_stores(settings)
    owns_hasher = hasher is None
    hasher = hasher or PasswordHasher(settings.argon2, max_waiting=settings.argon2_queue)
    services = Services(
        settings=settings,
        fmt=fmt,
        window=window,
        stores=stores,
        hasher=hasher,
        sessions=SessionManager(
            fmt=fmt, stores=stores, settings=settings, clock=clock, verifier=window.verifier
        ),
        accounts=Accounts(stores=stores, hasher=hasher, clock=clock),
        clock=clock,
        throttle=LoginThrottle(settings, stores.rate_limiter),
    )

    async def start_stores() -> None:
        await stores.startup()
        if reloader is not None:
            await reloader.start()
        if reporter is not None:
            await reporter.start()

    async def shut_down() -> None:
        if reporter is not None:
            await reporter.stop()
        if reloader is not None:
            await reloader.stop()
        if owns_stores:
            await stores.shutdown()
        if owns_hasher:
            hasher.close()

    app = Litestar(
        route_handlers=[
            *auth.route_handlers,
            *me.route_handlers,
            admin.router,
            *well_known.route_handlers,
            *health.route_handlers,
            *page.route_handlers,
        ],
        middleware=[DefineMiddleware(BearerAuthMiddleware, fmt=window.verifier)],
        dependencies={"services": Provide(lambda: services, use_cache=True, sync_to_thread=False)},
        state=State({"services": services}),
        exception_handlers=exception_handlers,
        on_startup=[start_stores],
        on_shutdown=[shut_down],
        request_max_body_size=MAX_BODY_BYTES,
        request_class=StrictJsonRequest,
        openapi_config=schema.openapi_config(fmt, version=_version()),
        logging_config=None,  # the tokenbench logger is configured by the process (app_from_env, CLI)
    )
    check_requirements(app)  # every route's requirements worked out now: a malformed one stops start-up
    return app


def app_from_env() -> Litestar:
    """The ASGI server's factory: settings from ``os.environ`` (already validated by the CLI)."""
    logger = logging.getLogger("tokenbench")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("tokenbench: %(levelname)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    return create_app(Settings.from_env(os.environ))
