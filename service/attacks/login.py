"""Rows for password guessing at the login: spraying, distributed guessing, enumeration by timing.

* password spraying: one address tries one password against many user names (and, over IPv6, one
  address in each of many /64s of one /56): the per-address limit must refuse it before the password is
  checked;
* distributed guessing: one account tried from many addresses, one attempt each: the per-account limit
  must refuse it, for an existing user and an unknown user name alike (a limit only existing users could
  reach would enumerate them);
* enumeration by timing: a failed login must cost the same argon2 work for an unknown user, a user whose
  hash has the current parameters, a user whose hash has outdated (cheaper) ones, and a stored value that
  is no argon2 hash. The work is counted (argon2 passes over the memory, per computation) rather than
  timed, so the row is exact on a busy machine; the service answers after that work, so equal work is
  equal time.

Each runs on a deployment of its own with the limits as shipped (the suite's main deployment turns them
off to log in freely) and a client that speaks from the peer address the scenario picks, as a socket
would: in-process only; against ``--url`` the rows are "not run".
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

from argon2 import extract_parameters, low_level
from litestar.testing import TestClient

from formats import FormatName
from formats.keys import generate_key_file
from service.app import create_app
from service.attacks.context import Context
from service.attacks.inprocess import deployment_environ
from service.attacks.model import (
    Applicability,
    Attack,
    Expect,
    NeedsOperatorError,
    Observation,
    Outcome,
    Section,
    every,
)
from service.auth.roles import Role
from service.passwords import PasswordHasher
from service.services import Services
from service.settings import Argon2Params, Settings

__all__ = ["ATTACKS"]

RATE_LIMITED: Final = "rate_limited"
SPRAYED_PASSWORD: Final = "Winter2026!"  # noqa: S105 - the guess being sprayed
CURRENT_ARGON2: Final = Argon2Params(time_cost=2, memory_cost=64, parallelism=1)
"""The timing row's deployment: cheap, but costlier than :data:`OUTDATED_ARGON2`."""
OUTDATED_ARGON2: Final = Argon2Params(time_cost=1, memory_cost=16, parallelism=1)


def _with_peer(app: Any) -> Any:
    """The app, with the peer address taken from ``x-attacker-peer`` (what a socket would report)."""

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            peer = dict(scope["headers"]).get(b"x-attacker-peer")
            if peer is not None:
                scope = {**scope, "client": (peer.decode(), 40000)}
        await app(scope, receive, send)

    return wrapped


@dataclass(frozen=True, slots=True)
class _Deployment:
    client: TestClient[Any]
    services: Services
    password: str

    def login(self, username: str, password: str, peer: str) -> tuple[int, str | None]:
        response = self.client.post(
            "/auth/login",
            json={"username": username, "password": password},
            headers={"x-attacker-peer": peer},
        )
        body = (
            response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        )
        return response.status_code, body.get("code") if isinstance(body, dict) else None

    def run(self, fn: Callable[[], Any]) -> Any:
        with self.client.portal() as portal:
            return portal.call(fn)


@contextmanager
def _deployment(name: FormatName, argon2: Argon2Params | None = None) -> Iterator[_Deployment]:
    """The format's service with the login limits as shipped, the user ``victim``, on temporary storage."""
    with tempfile.TemporaryDirectory(prefix=f"tokenbench-login-{name.value}-") as tmp:
        environ = {k: v for k, v in deployment_environ(name, Path(tmp)).items() if "RATE_LIMIT" not in k}
        settings = Settings.from_env(environ)
        if argon2 is not None:
            settings = replace(settings, argon2=argon2)
        generate_key_file(settings.keys_dir, name)
        app = create_app(settings)
        services: Services = app.state.services
        password = secrets.token_urlsafe(16)
        with TestClient(_with_peer(app), base_url="https://tokenbench.attacks.local", timeout=60) as client:
            deployment = _Deployment(client, services, password)

            async def seed() -> None:
                await services.accounts.create("victim", role=Role.USER, password=password)

            deployment.run(seed)
            yield deployment


def _in_process(ctx: Context) -> None:
    if ctx.operator is None:
        raise NeedsOperatorError("needs an in-process deployment: the attacker speaks from many addresses")


def _limited(variant: str, seen: tuple[int, str | None]) -> Observation:
    """HELD for a 429 ``rate_limited``; ACCEPTED when the password was checked (a guess got through)."""
    status, code = seen
    shown = f"{status} {code}" if code else str(status)
    if status >= 500:
        outcome = Outcome.ERROR
    elif status == 429 and code == RATE_LIMITED:
        outcome = Outcome.HELD
    elif status in (200, 401):
        outcome = Outcome.ACCEPTED
    else:
        outcome = Outcome.UNEXPECTED
    return Observation(variant, outcome, shown, f"429 {RATE_LIMITED}")


def _admitted(variant: str, seen: tuple[int, str | None], status: int) -> Observation:
    """A setup step or a bystander: HELD when the service answered ``status``."""
    shown = f"{seen[0]} {seen[1]}" if seen[1] else str(seen[0])
    return Observation(variant, Outcome.HELD if seen[0] == status else Outcome.ERROR, shown, str(status))


# --- LOGIN-PASSWORD-SPRAYING ---------------------------------------------------------------------


def spraying(ctx: Context) -> Iterator[Observation]:
    """One password against many user names from one address (then from the /64s of one IPv6 /56)."""
    _in_process(ctx)
    with _deployment(ctx.format) as service:
        limit = service.services.settings.login_address_rate_limit
        if limit is None:  # pragma: no cover - the shipped default is on
            raise NeedsOperatorError("the per-address limit is off")
        peers_by_variant: tuple[tuple[str, Callable[[int], str]], ...] = (
            ("one IPv4 address", lambda _: "198.51.100.23"),
            ("one address in each of many /64s of one IPv6 /56", lambda i: f"2001:db8:77:{i % 256:x}::1"),
        )
        for variant, peers in peers_by_variant:
            for i in range(limit.count):
                service.login(f"user{i:03d}", SPRAYED_PASSWORD, peers(i))
            yield _limited(
                f"{variant}: user name {limit.count + 1} after {limit.count} failures",
                service.login("victim", SPRAYED_PASSWORD, peers(limit.count)),
            )
        yield _admitted(
            "the user from another address meanwhile",
            service.login("victim", service.password, "192.0.2.200"),
            200,
        )


# --- LOGIN-DISTRIBUTED-GUESSING ------------------------------------------------------------------


def distributed_guessing(ctx: Context) -> Iterator[Observation]:
    """One account guessed from many addresses, one attempt each (the per-address limits never trip)."""
    _in_process(ctx)
    with _deployment(ctx.format) as service:
        limit = service.services.settings.login_account_rate_limit
        if limit is None:  # pragma: no cover - the shipped default is on
            raise NeedsOperatorError("the per-account limit is off")
        for variant, name, last_password in (
            ("an existing user, the right password last", "victim", service.password),
            ("an unknown user name (limited alike: nothing to enumerate)", "nobody-here", "guess"),
        ):
            for i in range(limit.count):
                service.login(name, f"guess-{i}", f"10.{i // 250}.{i % 250}.{7 if name == 'victim' else 9}")
            yield _limited(
                f"{variant}: attempt {limit.count + 1} from a fresh address",
                service.login(name, last_password, "10.250.0.1"),
            )


# --- LOGIN-TIMING-ENUMERATION --------------------------------------------------------------------


@contextmanager
def _counted_argon2_work() -> Iterator[list[int]]:
    """Record the work (time_cost x memory_cost) of every argon2 computation while the block runs."""
    done: list[int] = []
    real_verify, real_raw = low_level.verify_secret, low_level.hash_secret_raw

    def verify_secret(encoded: bytes, secret: bytes, kind: low_level.Type) -> Any:
        parameters = extract_parameters(encoded.decode())
        done.append(parameters.time_cost * parameters.memory_cost)
        return real_verify(encoded, secret, kind)

    def hash_secret_raw(*args: Any, **kwargs: Any) -> bytes:
        done.append(kwargs["time_cost"] * kwargs["memory_cost"])
        return real_raw(*args, **kwargs)

    low_level.verify_secret, low_level.hash_secret_raw = verify_secret, hash_secret_raw  # type: ignore[assignment]
    try:
        yield done
    finally:
        low_level.verify_secret, low_level.hash_secret_raw = real_verify, real_raw


def timing_enumeration(ctx: Context) -> Iterator[Observation]:
    """The argon2 work of a failed login: unknown user vs users with current, outdated and broken hashes."""
    _in_process(ctx)
    with _deployment(ctx.format, argon2=CURRENT_ARGON2) as service:
        users = service.services.stores.users

        async def seed() -> None:
            outdated = await PasswordHasher(OUTDATED_ARGON2).hash(service.password)
            await service.services.accounts.create("old-hash", role=Role.USER, password=service.password)
            await users.set_password_hash("old-hash", outdated)
            await service.services.accounts.create("broken-hash", role=Role.USER, password=service.password)
            await users.set_password_hash("broken-hash", "not an argon2 hash")

        service.run(seed)
        cases = {
            "an unknown user": "nobody-here",
            "a user whose hash has the current parameters": "victim",
            "a user whose hash has outdated, cheaper parameters": "old-hash",
            "a user whose stored value is no argon2 hash": "broken-hash",
        }
        work: dict[str, int] = {}
        for i, (label, name) in enumerate(cases.items()):
            with _counted_argon2_work() as done:
                status, code = service.login(name, "wrong-password", f"192.0.2.{10 + i}")
            if status != 401:
                yield Observation(f"{label} (setup)", Outcome.ERROR, f"{status} {code}", "401")
                return
            work[label] = sum(done)
        baseline = work["an unknown user"]
        for label, done_here in work.items():
            if label == "an unknown user":
                continue
            same = abs(done_here - baseline) <= CURRENT_ARGON2.time_cost * 4 * CURRENT_ARGON2.parallelism
            yield Observation(
                f"{label} vs an unknown user",
                Outcome.HELD if same else Outcome.ACCEPTED,
                f"argon2 work {done_here} vs {baseline} KiB-passes",
                "the same argon2 work",
            )


def _hold(why: str) -> dict[FormatName, Applicability]:
    return every(Applicability(Expect.HOLD, why))


ATTACKS: Final = (
    Attack(
        "LOGIN-PASSWORD-SPRAYING",
        "One password against many user names from one address, or from the /64s of one IPv6 /56",
        Section.LOGIN,
        _hold("the per-address limit (IPv6 by /56) refuses with 429 before any password check"),
        scenario=spraying,
        library_note="Not a token matter: the login throttle decides before argon2 runs.",
        extra=True,
        library_decides=False,
    ),
    Attack(
        "LOGIN-DISTRIBUTED-GUESSING",
        "One account guessed from many addresses, one attempt each; also an unknown user name",
        Section.LOGIN,
        _hold("the per-account limit refuses with 429, for unknown user names alike"),
        scenario=distributed_guessing,
        library_note="Not a token matter: the login throttle decides before argon2 runs.",
        extra=True,
        library_decides=False,
    ),
    Attack(
        "LOGIN-TIMING-ENUMERATION",
        "A failed login's cost tells an unknown user from a user with an outdated or broken hash",
        Section.LOGIN,
        _hold("every failed check does the argon2 work of one hash with the current parameters"),
        scenario=timing_enumeration,
        library_note="Not a token matter: the password hasher tops every failed check up to the same work.",
        extra=True,
        library_decides=False,
    ),
)
