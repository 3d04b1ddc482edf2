"""The service started in-process for one format, on temporary storage, with a clock the suite can move.

What runs is the real thing: :meth:`Settings.from_env` on a ``TOKENBENCH_*`` mapping, a key file written
by :func:`formats.keys.generate_key_file` (as ``tokenbench keys generate`` does), the suite's user created
with :meth:`service.accounts.Accounts.ensure` (the account rules ``tokenbench users`` uses), and
:func:`service.app.create_app` driven through Litestar's ``TestClient``: every request goes through the
ASGI app, its middleware, guards, exception handlers and stores, without a socket. Only the clock is the
suite's: a wall clock it can move forward, so scenarios can step past the refresh grace window or a token's
expiry without waiting.

The account-layer scenarios also play the operator (:class:`InProcessOperator`): they create, re-role and
delete users through :class:`service.accounts.Accounts` on the app's own stores, as ``tokenbench users``
would. To act *while a login is in flight*, the app's user store is wrapped by :class:`ObservedUserStore`,
which passes every call through and can run one armed change right after a login has read the user: the
moment an attacker's login sits in the argon2 queue, made deterministic.

The deployment sets an issuer and an audience (so the iss/aud rows apply), turns the login rate limits off
(the suite logs in a few dozen times) and uses the cheapest argon2id parameters (a throwaway user whose
random password is never stored anywhere else).
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from litestar import Litestar
from litestar.testing import TestClient

from formats import FormatName
from formats.keys import generate_key_file
from service.accounts import Accounts
from service.app import create_app
from service.attacks.model import AccountChange
from service.auth.roles import Role
from service.passwords import PasswordHasher
from service.services import Services
from service.settings import Argon2Params, Settings
from service.stores import UserRecord, UserStore, open_stores

__all__ = [
    "AUDIENCE",
    "ISSUER",
    "USERNAME",
    "InProcessOperator",
    "InProcessService",
    "MovableClock",
    "ObservedUserStore",
    "in_process_service",
]

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


class ObservedUserStore:
    """A user store passing every call through, which can run one armed action after a read of a user."""

    def __init__(self, inner: UserStore) -> None:
        self._inner = inner
        self._armed: dict[str, tuple[int, Callable[[], Awaitable[object]]]] = {}

    def after_next_read(
        self, username: str, action: Callable[[], Awaitable[object]], *, skip: int = 0
    ) -> None:
        """Run ``action`` right after a :meth:`get` of ``username`` read it, before it returns.

        The next read, or the one after ``skip`` more (a login reads its user twice: before the argon2
        check, and again after it).
        """
        self._armed[username] = (skip, action)

    async def get(self, username: str) -> UserRecord | None:
        """The user, or None; then the action armed for ``username``, if it is due (once)."""
        record = await self._inner.get(username)
        armed = self._armed.pop(username, None)
        if armed is not None:
            skip, action = armed
            if skip:
                self._armed[username] = (skip - 1, action)
            else:
                await action()
        return record

    async def create(
        self, username: str, *, role: str, password_hash: str, now: float, actor: str | None = None
    ) -> UserRecord:
        """Passed through."""
        return await self._inner.create(
            username, role=role, password_hash=password_hash, now=now, actor=actor
        )

    async def list(self) -> list[UserRecord]:
        """Passed through."""
        return await self._inner.list()

    async def set_role(self, username: str, role: str, *, actor: str | None = None) -> UserRecord:
        """Passed through."""
        return await self._inner.set_role(username, role, actor=actor)

    async def set_password_hash(self, username: str, password_hash: str) -> None:
        """Passed through."""
        await self._inner.set_password_hash(username, password_hash)

    async def replace_password_hash(self, username: str, *, old: str, new: str) -> bool:
        """Passed through."""
        return await self._inner.replace_password_hash(username, old=old, new=new)

    async def delete(self, username: str, *, actor: str | None = None) -> None:
        """Passed through."""
        await self._inner.delete(username, actor=actor)

    async def ping(self) -> None:
        """Passed through."""
        await self._inner.ping()


class InProcessOperator:
    """The operator's part in account-layer scenarios, run on the app's event loop through its portal."""

    def __init__(self, client: TestClient[Litestar], services: Services, users: ObservedUserStore) -> None:
        self._client = client
        self._accounts = services.accounts
        self._users = users
        self._settings = services.settings

    def _run(self, action: Callable[[], Awaitable[object]]) -> None:
        with self._client.portal() as portal:
            portal.call(action)

    def ensure(self, username: str, password: str, *, admin: bool) -> None:
        """Create the user, or reset its role and password."""
        role = Role.ADMIN if admin else Role.USER
        self._run(lambda: self._accounts.ensure(username, role=role, password=password))

    def set_admin(self, username: str, *, admin: bool) -> None:
        """Promote or demote the user (revoking its sessions)."""
        self._run(lambda: self._accounts.set_role(username, Role.ADMIN if admin else Role.USER))

    def delete(self, username: str) -> None:
        """Delete the user (revoking its sessions)."""
        self._run(lambda: self._accounts.delete(username))

    def store_outdated_hash(self, username: str, password: str) -> None:
        """Store ``password`` hashed with a time cost one above the configured one."""
        params = self._settings.argon2
        older = PasswordHasher(Argon2Params(params.time_cost + 1, params.memory_cost, params.parallelism))

        async def store() -> None:
            await self._users.set_password_hash(username, await older.hash(password))

        self._run(store)

    def during_next_login(self, username: str, change: AccountChange) -> None:
        """Arm ``change`` for right after the next login of ``username`` reads the user."""
        accounts = self._accounts
        actions: dict[AccountChange, Callable[[], Awaitable[object]]] = {
            AccountChange.RESET: lambda: accounts.set_password(username, secrets.token_urlsafe(16)),
            AccountChange.DELETE: lambda: accounts.delete(username),
            AccountChange.DEMOTE: lambda: accounts.set_role(username, Role.USER),
        }
        self._users.after_next_read(username, actions[change])


@dataclass(frozen=True, slots=True)
class InProcessService:
    """A running in-process service and what the suite needs to attack it."""

    client: TestClient[Litestar]
    settings: Settings
    clock: MovableClock
    username: str
    password: str
    operator: InProcessOperator


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
        accounts = Accounts(stores=stores, hasher=PasswordHasher(settings.argon2))
        await accounts.ensure(username, role=Role.USER, password=password)
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
        stores = open_stores(settings)
        users = ObservedUserStore(stores.users)
        app = create_app(settings, stores=replace(stores, users=users), clock=clock)
        with TestClient(app, base_url=BASE_URL, timeout=60) as client:
            try:
                operator = InProcessOperator(client, app.state.services, users)
                yield InProcessService(client, settings, clock, USERNAME, password, operator)
            finally:
                with client.portal() as portal:  # injected stores: closed here, on the app's loop
                    portal.call(stores.shutdown)
