"""The attack suite's vocabulary: what an attack expects per format, what it sends, and what was seen.

An :class:`Attack` is one row of the failure-mode matrix. It says, per format, what the correct outcome is
(:class:`Applicability`), and has up to four ways of exercising it:

* ``probes``: hostile tokens, each sent to the running service (and to the bare library for the second set
  of columns) and expected to be refused with a given ``code``;
* ``scenario``: a sequence of requests against the running service (refresh replay, concurrent refresh,
  logout) whose result is an :class:`Observation` per step;
* ``startup``: bad configurations the service must refuse to start with (:class:`StartupCase`);
* ``check``: a property of a running service that is not a request (distinct nonces, readable claims).

Scenarios of the account layer also need an :class:`Operator`: someone with the database who creates,
re-roles and deletes users while the attacker acts (in-process runs only).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Protocol

from formats import FormatName
from service.attacks.contract import (
    BAD_SIGNATURE,
    CLAIMS_INVALID,
    EXPIRED,
    MALFORMED,
    NOT_YET_VALID,
    REVOKED,
    UNKNOWN_KEY,
    WRONG_KIND,
)

if TYPE_CHECKING:
    from service.attacks.context import Context

__all__ = [
    "ALL_FORMATS",
    "BAD_SIGNATURE",
    "CLAIMS_INVALID",
    "EDDSA",
    "ES256",
    "EXPIRED",
    "HOLD",
    "HS256",
    "JWT_FORMATS",
    "LOCAL",
    "MALFORMED",
    "NOT_YET_VALID",
    "PASETO_FORMATS",
    "PUBLIC",
    "REJECT",
    "REJECT_AND_STARTUP",
    "REVOKED",
    "STARTUP",
    "UNKNOWN_KEY",
    "WRONG_KIND",
    "AccountChange",
    "Applicability",
    "Attack",
    "CannotWaitError",
    "Expect",
    "LibraryObservation",
    "NeedsKeyError",
    "NeedsOperatorError",
    "NotThisDeploymentError",
    "Observation",
    "Operator",
    "Outcome",
    "Probe",
    "Profile",
    "Reply",
    "Section",
    "ServiceApi",
    "Session",
    "StartupCase",
    "Verdict",
    "Via",
    "deployment",
    "every",
    "policy",
    "row",
    "structural",
]

ALL_FORMATS: Final = tuple(FormatName)
HS256: Final = FormatName.JWT_HS256
ES256: Final = FormatName.JWT_ES256
EDDSA: Final = FormatName.JWT_EDDSA
LOCAL: Final = FormatName.PASETO_V4_LOCAL
PUBLIC: Final = FormatName.PASETO_V4_PUBLIC
JWT_FORMATS: Final = (FormatName.JWT_HS256, FormatName.JWT_ES256, FormatName.JWT_EDDSA)
PASETO_FORMATS: Final = (FormatName.PASETO_V4_LOCAL, FormatName.PASETO_V4_PUBLIC)


class Section(enum.StrEnum):
    """The catalog's sections, in its order, plus the rows this project adds for its design principles."""

    SIGNATURE = "Signature & algorithm"
    KEY_SELECTION = "Key selection"
    KEY_MANAGEMENT = "Key management"
    PASETO_BINDING = "PASETO version/purpose binding"
    CLAIMS = "Claims & lifecycle"
    PARSING = "Parsing & DoS"
    PRINCIPLES = "Design principles the catalog does not spell out"
    ACCOUNT = "Account layer: the user's current state decides"
    LOGIN = "Login: spraying, distributed guessing, enumeration by timing"


class Expect(enum.StrEnum):
    """The correct outcome of an attack in one format (the catalog's legend)."""

    REJECT = "401"
    STARTUP = "startup"
    REJECT_AND_STARTUP = "401+startup"
    HOLD = "held"
    POLICY = "policy"
    NOT_THIS_DEPLOYMENT = "N/A"
    STRUCTURAL = "N/A-S"


@dataclass(frozen=True, slots=True)
class Applicability:
    """How an attack applies to one format; ``why`` explains not-applicable and policy outcomes."""

    expect: Expect
    why: str = ""

    @property
    def applies(self) -> bool:
        """Whether the attack is a real threat to this format (the cell counts towards held/accepted)."""
        return self.expect not in (Expect.NOT_THIS_DEPLOYMENT, Expect.STRUCTURAL, Expect.POLICY)


REJECT: Final = Applicability(Expect.REJECT)
STARTUP: Final = Applicability(Expect.STARTUP)
REJECT_AND_STARTUP: Final = Applicability(Expect.REJECT_AND_STARTUP)
HOLD: Final = Applicability(Expect.HOLD)

# The failure codes (MALFORMED, ...) are spelled in service.attacks.contract, not imported from formats.


def structural(why: str) -> Applicability:
    """Structurally impossible in this format: the format has no such header, mode or field."""
    return Applicability(Expect.STRUCTURAL, why)


def deployment(why: str) -> Applicability:
    """Not applicable to this deployment of the format (e.g. needs a key the service does not have)."""
    return Applicability(Expect.NOT_THIS_DEPLOYMENT, why)


def policy(why: str) -> Applicability:
    """A design rule rather than a rejection (e.g. claims are readable: keep secrets out of them)."""
    return Applicability(Expect.POLICY, why)


def row(
    hs256: Applicability,
    es256: Applicability,
    eddsa: Applicability,
    local: Applicability,
    public: Applicability,
) -> dict[FormatName, Applicability]:
    """Per-format applicability in the matrix's column order (``FormatName``'s)."""
    return {HS256: hs256, ES256: es256, EDDSA: eddsa, LOCAL: local, PUBLIC: public}


def every(applicability: Applicability) -> dict[FormatName, Applicability]:
    """The same applicability in every format."""
    return dict.fromkeys(ALL_FORMATS, applicability)


class Profile(enum.StrEnum):
    """Whom a context forges for: the running service, or the bare library's ordinary call."""

    SERVICE = "service"
    LIBRARY = "library"


class Via(enum.StrEnum):
    """Where a probe puts its token."""

    BEARER = "bearer"
    """``Authorization: Bearer <token>`` on ``GET /admin/users`` (an admin-only route)."""
    COOKIE = "cookie"
    """``Cookie: refresh_token=<token>`` on ``POST /auth/refresh``."""
    AUTHORIZATION = "authorization"
    """The ``Authorization`` header value exactly as given, on ``GET /admin/users``."""
    REFRESH_BEARER = "refresh-bearer"
    """``Authorization: Bearer <token>`` on ``POST /auth/refresh`` (where only the cookie counts)."""
    ACCESS_COOKIE = "access-cookie"
    """``Cookie: refresh_token=<token>`` on ``GET /admin/users`` (where only the bearer header counts)."""
    QUERY = "query"
    """``GET /admin/users?access_token=<token>`` (RFC 6750 §2.3, which this service does not accept)."""
    TWO_BEARERS = "two-bearers"
    """Two ``Authorization: Bearer`` headers on ``GET /admin/users``: ``token``, then ``second``."""
    TWO_COOKIES = "two-cookies"
    """``Cookie: refresh_token=<token>; refresh_token=<second>`` on ``POST /auth/refresh``."""


class Verdict(enum.StrEnum):
    """What the bare library's ordinary call did with a token."""

    ACCEPTS = "accepts"
    REJECTS = "rejects"


@dataclass(frozen=True, slots=True)
class Probe:
    """One hostile token and what must happen to it.

    ``code`` is the stable failure code the service must answer with (401). ``library`` is what the bare
    library's ordinary call does with the same token, as recorded in the catalog; ``None`` when the
    comparison means nothing (the variant exists only because of how the service transports tokens).
    ``only`` restricts the probe to one profile (e.g. surrounding whitespace, which HTTP strips anyway).
    ``second`` is the other credential of a probe that sends two (``Via.TWO_BEARERS``, ``Via.TWO_COOKIES``).
    """

    variant: str
    token: str | bytes
    code: str
    via: Via = Via.BEARER
    library: Verdict | None = Verdict.REJECTS
    statuses: frozenset[int] = frozenset({401})
    only: Profile | None = None
    second: str | None = None


@dataclass(frozen=True, slots=True)
class StartupCase:
    """A bad configuration the service must refuse to start with.

    ``files`` are written under a fresh ``TOKENBENCH_KEYS_DIR`` (paths relative to it), ``env`` is added to
    the environment; ``with_valid_key`` first writes a good key (so the bad file is a retiring key, or the
    refusal can only come from ``env``). ``library`` runs the bare library with the same bad key or setting
    and raises if the
    library refuses it; ``library_expect`` is the recorded outcome.
    """

    variant: str
    format: FormatName
    files: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    library: Callable[[], object] | None = None
    library_expect: Verdict | None = None
    with_valid_key: bool = False


class Outcome(enum.StrEnum):
    """What happened to one variant of an attack."""

    REJECTED = "rejected"
    """Refused with the expected status and code."""
    REFUSED = "refused"
    """The service refused to start with the bad configuration."""
    HELD = "held"
    """A scenario or property check held (e.g. one lineage, distinct nonces)."""
    POLICY = "policy"
    """Observed for the record (e.g. claims readable without a key); not a pass or fail."""
    UNEXPECTED = "unexpected"
    """Refused, but not with the expected status or code."""
    ACCEPTED = "ACCEPTED"
    """The attack got through."""
    ERROR = "ERROR"
    """A 5xx, a crash, or a start-up failure without a clear message."""
    NOT_RUN = "not run"
    """The attacker lacks what the variant needs (e.g. the key files when attacking ``--url``)."""

    @property
    def failed(self) -> bool:
        """An attack got through or the service misbehaved: the command exits non-zero."""
        return self in (Outcome.ACCEPTED, Outcome.ERROR)


@dataclass(frozen=True, slots=True)
class Observation:
    """One variant's result against the service: the outcome and what was seen (status, code, message)."""

    variant: str
    outcome: Outcome
    seen: str
    expected: str = ""


@dataclass(frozen=True, slots=True)
class LibraryObservation:
    """One variant's result against the bare library, with the behaviour the catalog recorded."""

    variant: str
    verdict: Verdict
    detail: str
    recorded: Verdict

    @property
    def matches_record(self) -> bool:
        """The library still behaves as the catalog recorded."""
        return self.verdict is self.recorded


@dataclass(frozen=True, slots=True)
class Reply:
    """What the service answered: status, the ``code`` of an error body, and a new refresh token if set."""

    status: int
    code: str | None = None
    refresh_token: str | None = None
    access_token: str | None = None


@dataclass(frozen=True, slots=True)
class Session:
    """A logged-in session: the access token and the refresh token from the cookie."""

    access: str
    refresh: str


class ServiceApi(Protocol):
    """The routes scenarios drive, and the judge that turns a reply into an :class:`Observation`."""

    refresh_grace: int
    access_ttl: int
    lifetimes: tuple[int, int] | None
    """``(TOKENBENCH_REFRESH_TTL, TOKENBENCH_SESSION_MAX_AGE)`` when known (in-process), else None."""

    def login(self) -> Session:
        """Log the suite's user in; a fresh refresh family each time."""
        ...

    def refresh(self, token: str) -> Reply:
        """``POST /auth/refresh`` with ``token`` as the refresh cookie."""
        ...

    def logout(self, token: str) -> Reply:
        """``POST /auth/logout`` with ``token`` as the refresh cookie."""
        ...

    def logout_with(self, *tokens: str) -> tuple[Reply, bool]:
        """``POST /auth/logout`` with one refresh cookie per token; the reply, and whether it expires them."""
        ...

    def logout_all(self, access: str) -> Reply:
        """``POST /auth/logout-all`` with ``access`` as the bearer token."""
        ...

    def me(self, access: str) -> Reply:
        """``GET /me`` with ``access`` as the bearer token."""
        ...

    def login_as(self, username: str, password: str) -> Reply:
        """``POST /auth/login`` as any user; the reply as it came (no error raised)."""
        ...

    def create_user(self, access: str, username: str, password: str, role: str) -> Reply:
        """``POST /admin/users`` with ``access`` as the bearer token."""
        ...

    def change_role(self, access: str, username: str, role: str) -> Reply:
        """``PATCH /admin/users/{username}`` with ``access`` as the bearer token."""
        ...

    def advance(self, seconds: int) -> None:
        """Let ``seconds`` pass on the service's clock (in-process: move the clock; remote: sleep)."""
        ...

    def judge(self, variant: str, reply: Reply, code: str) -> Observation:
        """REJECTED for a 401 with ``code``; ACCEPTED for 2xx/403; ERROR for 5xx; else UNEXPECTED."""
        ...


class AccountChange(enum.StrEnum):
    """What an operator does to a user while the attacker's login is in flight."""

    RESET = "password reset"
    DELETE = "deletion"
    DEMOTE = "demotion"


class Operator(Protocol):
    """Someone with the service's database (``tokenbench users``), acting through the account rules."""

    def ensure(self, username: str, password: str, *, admin: bool) -> None:
        """Create the user, or reset its role and password."""
        ...

    def set_admin(self, username: str, *, admin: bool) -> None:
        """Promote or demote the user."""
        ...

    def delete(self, username: str) -> None:
        """Delete the user."""
        ...

    def store_outdated_hash(self, username: str, password: str) -> None:
        """Store ``password`` hashed with other argon2 parameters (as before a parameter change)."""
        ...

    def during_next_login(self, username: str, change: AccountChange) -> None:
        """Arm ``change`` to happen right after the next login of ``username`` reads the user.

        That is while the login's argon2 check is still ahead of it: the window of a login in flight.
        """
        ...


class NeedsOperatorError(Exception):
    """The scenario needs the service's database (an operator's part), available in-process only."""


class NeedsKeyError(Exception):
    """The variant needs the service's key files (a leaked or co-issuer key), which are not available."""


class NotThisDeploymentError(Exception):
    """The attack needs a feature this deployment has switched off (e.g. no audience configured)."""


class CannotWaitError(Exception):
    """A scenario needs the service's clock moved further than the runner may wait (remote services)."""


ProbeBuilder = Callable[["Context"], Iterable[Probe]]
ScenarioRunner = Callable[["Context"], Iterable[Observation]]
StartupBuilder = Callable[[FormatName], Iterable[StartupCase]]
PropertyCheck = Callable[["Context"], Iterable[Observation]]
LibraryCheck = Callable[[FormatName], Iterable[LibraryObservation]]


@dataclass(frozen=True, slots=True)
class Attack:
    """One row of the failure-mode matrix."""

    id: str
    title: str
    section: Section
    applies: Mapping[FormatName, Applicability]
    probes: ProbeBuilder | None = None
    scenario: ScenarioRunner | None = None
    startup: StartupBuilder | None = None
    check: PropertyCheck | None = None
    library_check: LibraryCheck | None = None
    library_note: str = ""
    extra: bool = False
    library_decides: bool = True
    """False for a service row: the token is genuine, and the session store, the transport or the account
    layer decides (refresh replay, logout, throttling). The matrix shows no bare-library verdict for it."""

    def __post_init__(self) -> None:
        missing = set(FormatName) - set(self.applies)
        if missing:
            raise ValueError(f"{self.id}: no applicability for {sorted(missing)}")
        for name, applicability in self.applies.items():
            if not applicability.applies and not applicability.why:
                raise ValueError(f"{self.id}/{name}: {applicability.expect} needs a reason")
