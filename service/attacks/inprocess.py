"""The service started in-process for one format, on temporary storage, with a clock the suite can move.

What runs is the real thing: :meth:`Settings.from_env` on a ``TOKENBENCH_*`` mapping, a key file written
by :func:`formats.keys.generate_key_file` (as ``tokenbench keys generate`` does), the suite's user created
with :func:`service.commands.users.set_user` (as ``tokenbench users create`` does), and
:func:`service.app.create_app` driven through Litestar's ``TestClient``: every request goes through the
ASGI app, its middleware, guards, exception handlers and stores, without a socket. Only the clock is the
suite's: a wall clock it can move forward, so scenarios can step past the refresh grace window or a token's
expiry without waiting.

The deployment sets an issuer and an audience (so the iss/aud rows apply), turns the login rate limits off
(the suite logs in a few dozen times) and uses the cheapest argon2id parameters (a throwaway user whose
random password is never stored anywhere else).
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from litestar import Litestar
from litestar.testing import TestClient

from formats import FormatName
from formats.keys import generate_key_file
from service.app import create_app
from service.auth.roles import Role
from service.commands.users import set_user
from service.passwords import PasswordHasher
from service.settings import Settings
from service.stores import open_stores

__all__ = ["AUDIENCE", "ISSUER", "USERNAME", "InProcessService", "MovableClock", "in_process_service"]

ISSUER: Final = "https://tokenbench.attacks.local"
AUDIENCE: Final = "tokenbench-api"
USERNAME: Final = "mallory"
BASE_URL: Final = "https://tokenbench.attacks.local"


class MovableClock:
    """The wall clock plus an offset the suite moves forward."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        """Now, moved by every ``advance`` so far."""
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        """Move the clock ``delta`` forward."""
        self.offset += delta


@dataclass(frozen=True, slots=True)
class InProcessService:
    """A running in-process service and what the suite needs to attack it."""

    client: TestClient[Litestar]
    settings: Settings
    clock: MovableClock
    username: str
    password: str


def deployment_environ(name: FormatName, work: Path) -> dict[str, str]:
    """The ``TOKENBENCH_*`` variables of the in-process deployment of ``name`` under ``work``."""
    return {
        "TOKENBENCH_FORMAT": name.value,
        "TOKENBENCH_ENV": "development",
        "TOKENBENCH_KEYS_DIR": str(work / "keys"),
        "TOKENBENCH_DATABASE_URL": f"sqlite+aiosqlite:///{work / 'tokenbench.db'}",
        "TOKENBENCH_ISSUER": ISSUER,
        "TOKENBENCH_AUDIENCE": AUDIENCE,
        "TOKENBENCH_LOGIN_RATE_LIMIT": "off",
        "TOKENBENCH_LOGIN_ADDRESS_RATE_LIMIT": "off",
        "TOKENBENCH_LOGIN_ACCOUNT_RATE_LIMIT": "off",
        "TOKENBENCH_ARGON2_TIME_COST": "1",
        "TOKENBENCH_ARGON2_MEMORY_COST": "8",
        "TOKENBENCH_ARGON2_PARALLELISM": "1",
    }


async def _create_user(settings: Settings, username: str, password: str) -> None:
    stores = open_stores(settings)
    try:
        await stores.startup()
        await set_user(stores, PasswordHasher(settings.argon2), username, role=Role.USER, password=password)
    finally:
        await stores.shutdown()


@contextmanager
def in_process_service(name: FormatName, work: Path | None = None) -> Iterator[InProcessService]:
    """Start the service for ``name`` on temporary storage (under ``work`` if given); stop it on exit."""
    with tempfile.TemporaryDirectory(prefix=f"tokenbench-attacks-{name.value}-") as tmp:
        root = work or Path(tmp)
        settings = Settings.from_env(deployment_environ(name, root))
        generate_key_file(settings.keys_dir, name)
        password = secrets.token_urlsafe(16)
        asyncio.run(_create_user(settings, USERNAME, password))
        clock = MovableClock()
        app = create_app(settings, clock=clock)
        with TestClient(app, base_url=BASE_URL, timeout=60) as client:
            yield InProcessService(client, settings, clock, USERNAME, password)
