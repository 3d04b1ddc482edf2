"""Service settings: one frozen object, built once from an injectable mapping of ``TOKENBENCH_*`` variables.

Nothing here reads ``os.environ`` by itself: the CLI passes it in (tests pass a plain dict). A bad value
raises :class:`SettingsError` whose message is one line that starts with the variable's name; the CLI
prints it and exits with status 2.

Variables (default; accepted values):

* ``TOKENBENCH_FORMAT`` (``paseto-v4-public``; a :class:`formats.FormatName`): the format **issued**
* ``TOKENBENCH_ACCEPT_FORMATS`` (unset; comma-separated format names): formats still **accepted** during a
  switch (docs/migration.md); each verifies with its own ring from ``KEYS_DIR/<format>/``, the issued
  format is not listed again, and none twice
* ``TOKENBENCH_ENV`` (``development``; ``development`` or ``production``)
* ``TOKENBENCH_DATABASE_URL`` (``sqlite+aiosqlite:///var/tokenbench.db``; SQLite via aiosqlite or
  PostgreSQL via asyncpg; ``sqlite://`` and ``postgresql://`` get the async driver)
* ``TOKENBENCH_REDIS_URL`` (unset: sessions and rate limits in SQL; ``redis://``, ``rediss://``, ``unix://``)
* ``TOKENBENCH_KEYS_DIR`` (``var/keys``)
* ``TOKENBENCH_KEYS_RELOAD`` (``10``; 1..3600 seconds): how often a running process re-reads the key
  directory (issuers) or at most how long it trusts a fetched key set without asking again (verifiers
  without a ``max-age`` from the issuer); also the ``max-age`` of the issuer's ``/.well-known`` documents
* ``TOKENBENCH_ISSUER_URL`` (unset; ``http(s)://host[:port][/path]``): the issuer whose published keys a
  ``serve --verify-only`` service follows
* ``TOKENBENCH_ACCESS_TTL`` (``900``) and ``TOKENBENCH_REFRESH_TTL`` (``604800``): positive integer seconds
* ``TOKENBENCH_LEEWAY`` (``30``; 0..300 seconds)
* ``TOKENBENCH_REFRESH_GRACE`` (``10``; 0..300 seconds, 0 = strict)
* ``TOKENBENCH_SESSION_MAX_AGE`` (``2592000`` = 30 days; at least ``TOKENBENCH_REFRESH_TTL``): how long a
  refresh family may live from its login, however often it is refreshed
* ``TOKENBENCH_LOGIN_RATE_LIMIT`` (``10/minute``; ``N/second|minute|hour|day`` or ``off``): login attempts
  per user name and address
* ``TOKENBENCH_LOGIN_ADDRESS_RATE_LIMIT`` (``30/minute``; same syntax): login attempts that did not succeed
  per address (IPv4 address, IPv6 network: see the next), whatever the user name
* ``TOKENBENCH_LOGIN_IPV6_PREFIX`` (``56``; 48..64): the IPv6 network that counts as one address for the
  per-address limit (an ISP delegates a /56 or a /48 to a subscriber); an IPv6 address that carries an
  IPv4 address (IPv4-mapped, 6to4, NAT64, Teredo) counts as that IPv4 address
* ``TOKENBENCH_LOGIN_ACCOUNT_RATE_LIMIT`` (``100/hour``; same syntax): login attempts that did not succeed
  per user name, whatever the address
* ``TOKENBENCH_ARGON2_QUEUE`` (``8``; 0..10000): password checks that may wait for a free hashing slot;
  past it a login answers 503 with ``Retry-After``
* production refuses each of the three login limits ``off`` or above 1 attempt per second on average or
  1000 per window (:data:`PRODUCTION_MAX_ATTEMPTS_PER_SECOND`), and ``TOKENBENCH_ACCESS_TTL`` above 3600
* ``TOKENBENCH_ISSUER``, ``TOKENBENCH_AUDIENCE`` (unset; checked when set; production requires both)
* ``TOKENBENCH_COOKIE_SECURE`` (``true``; must be true in production)
* ``TOKENBENCH_ARGON2_TIME_COST`` (``3``; production >= 2), ``TOKENBENCH_ARGON2_MEMORY_COST`` (``65536``
  KiB; at least 8 per lane; production >= 19456), ``TOKENBENCH_ARGON2_PARALLELISM`` (``1``)
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, TypeVar
from urllib.parse import urlsplit

from redis.asyncio.connection import parse_url as parse_redis_url
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from formats import ClaimPolicy, FormatName
from formats.claims import MAX_LEEWAY

__all__ = [
    "Argon2Params",
    "Environment",
    "RateLimit",
    "Secret",
    "Settings",
    "SettingsError",
]

E = TypeVar("E", bound=enum.StrEnum)

PREFIX: Final = "TOKENBENCH_"
DEFAULT_DATABASE_URL: Final = "sqlite+aiosqlite:///var/tokenbench.db"
MAX_REFRESH_GRACE: Final = 300
DEFAULT_SESSION_MAX_AGE: Final = 30 * 24 * 3600
MAX_SESSION_MAX_AGE: Final = 10 * 365 * 24 * 3600
MAX_KEYS_RELOAD: Final = 3600
_SQL_DRIVERS: Final = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}
_REDIS_SCHEMES: Final = ("redis://", "rediss://", "unix://")
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off"})
_PERIODS: Final = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE: Final = re.compile(r"(\d{1,6})\s*/\s*(second|minute|hour|day)s?\Z")


class SettingsError(ValueError):
    """A ``TOKENBENCH_*`` value is unusable. The message is one line starting with the variable name."""

    def __init__(self, variable: str, problem: str, value: str | None = None) -> None:
        shown = "" if value is None else f", got {value!r}"
        super().__init__(f"{variable}: {problem}{shown}")
        self.variable = variable


class Environment(enum.StrEnum):
    """``development`` generates missing keys with a warning; ``production`` refuses to start without."""

    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Secret:
    """A string that never shows itself in ``repr``/``str`` (logs, tracebacks, ``print(settings)``)."""

    __slots__ = ("_shown", "_value")

    def __init__(self, value: str, *, shown: str = "**********") -> None:
        self._value = value
        self._shown = shown

    def reveal(self) -> str:
        """The secret value itself; call it only where the value is used."""
        return self._value

    @property
    def masked(self) -> str:
        """What may be shown (a URL with its password replaced by ``***``)."""
        return self._shown

    def __repr__(self) -> str:
        return f"Secret({self._shown!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``count`` attempts per ``period`` seconds."""

    count: int
    period: int

    def __str__(self) -> str:
        names = {seconds: name for name, seconds in _PERIODS.items()}
        return (
            f"{self.count}/{names[self.period]}" if self.period in names else f"{self.count}/{self.period}s"
        )


DEFAULT_LOGIN_RATE_LIMIT: Final = RateLimit(count=10, period=60)
DEFAULT_LOGIN_ADDRESS_RATE_LIMIT: Final = RateLimit(count=30, period=60)
DEFAULT_LOGIN_ACCOUNT_RATE_LIMIT: Final = RateLimit(count=100, period=3600)
PRODUCTION_MAX_ATTEMPTS_PER_SECOND: Final = 1
PRODUCTION_MAX_ATTEMPTS_PER_WINDOW: Final = 1000
"""``production`` refuses a login limit that allows more than 1 attempt per second on average or more
than 1000 in one window: 60/minute, 1000/hour and 1000/day are the highest it starts with. Past that a
limit no longer slows a guesser down (1000/second is 86 million guesses a day per account)."""
PRODUCTION_MAX_ACCESS_TTL: Final = 3600
"""``production`` refuses access tokens that live longer than an hour: nothing revokes one before its
``exp`` (logout, a role change and a password reset only end refresh sessions)."""
DEFAULT_LOGIN_IPV6_PREFIX: Final = 56
MIN_LOGIN_IPV6_PREFIX: Final = 48
MAX_LOGIN_IPV6_PREFIX: Final = 64
DEFAULT_ARGON2_QUEUE: Final = 8
MAX_ARGON2_QUEUE: Final = 10_000


@dataclass(frozen=True, slots=True)
class Argon2Params:
    """argon2id cost parameters (RFC 9106). The defaults are argon2-cffi's RFC 9106 low-memory profile."""

    time_cost: int = 3
    memory_cost: int = 65536
    parallelism: int = 1


PRODUCTION_ARGON2_FLOOR: Final = Argon2Params(time_cost=2, memory_cost=19456, parallelism=1)
"""The OWASP password-storage minimum for argon2id; ``production`` refuses anything cheaper."""


def _default_database_url() -> Secret:
    return Secret(DEFAULT_DATABASE_URL, shown=DEFAULT_DATABASE_URL)


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Everything the service needs to start. Build it with :meth:`from_env`; never mutate it."""

    format: FormatName = FormatName.PASETO_V4_PUBLIC
    accept_formats: tuple[FormatName, ...] = ()
    env: Environment = Environment.DEVELOPMENT
    database_url: Secret = field(default_factory=_default_database_url)
    redis_url: Secret | None = None
    keys_dir: Path = Path("var/keys")
    keys_reload: int = 10
    issuer_url: str | None = None
    access_ttl: int = 900
    refresh_ttl: int = 7 * 24 * 3600
    leeway: int = 30
    refresh_grace: int = 10
    session_max_age: int = DEFAULT_SESSION_MAX_AGE
    login_rate_limit: RateLimit | None = DEFAULT_LOGIN_RATE_LIMIT
    login_address_rate_limit: RateLimit | None = DEFAULT_LOGIN_ADDRESS_RATE_LIMIT
    login_account_rate_limit: RateLimit | None = DEFAULT_LOGIN_ACCOUNT_RATE_LIMIT
    login_ipv6_prefix: int = DEFAULT_LOGIN_IPV6_PREFIX
    issuer: str | None = None
    audience: str | None = None
    cookie_secure: bool = True
    argon2: Argon2Params = Argon2Params()
    argon2_queue: int = DEFAULT_ARGON2_QUEUE

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Read every ``TOKENBENCH_*`` variable from ``environ``; unset or empty means the default."""
        reader = _Reader(environ)
        default = cls()  # every default is the dataclass's own, stated once
        env = reader.choice("ENV", Environment, default.env)
        issued = reader.choice("FORMAT", FormatName, default.format)
        refresh_ttl = reader.integer("REFRESH_TTL", default.refresh_ttl, low=1)
        settings = cls(
            format=issued,
            accept_formats=reader.accept_formats("ACCEPT_FORMATS", issued=issued),
            env=env,
            database_url=reader.database_url("DATABASE_URL") or default.database_url,
            redis_url=reader.redis_url("REDIS_URL"),
            keys_dir=Path(reader.text("KEYS_DIR") or default.keys_dir),
            keys_reload=reader.integer("KEYS_RELOAD", default.keys_reload, low=1, high=MAX_KEYS_RELOAD),
            issuer_url=reader.http_url("ISSUER_URL"),
            access_ttl=reader.integer("ACCESS_TTL", default.access_ttl, low=1),
            refresh_ttl=refresh_ttl,
            leeway=reader.integer("LEEWAY", default.leeway, low=0, high=MAX_LEEWAY),
            refresh_grace=reader.integer(
                "REFRESH_GRACE", default.refresh_grace, low=0, high=MAX_REFRESH_GRACE
            ),
            session_max_age=reader.integer(
                "SESSION_MAX_AGE",
                default.session_max_age,
                low=refresh_ttl,
                high=MAX_SESSION_MAX_AGE,
                low_text=f"{PREFIX}REFRESH_TTL ({refresh_ttl})",
            ),
            login_rate_limit=reader.rate_limit("LOGIN_RATE_LIMIT", default.login_rate_limit),
            login_address_rate_limit=reader.rate_limit(
                "LOGIN_ADDRESS_RATE_LIMIT", default.login_address_rate_limit
            ),
            login_account_rate_limit=reader.rate_limit(
                "LOGIN_ACCOUNT_RATE_LIMIT", default.login_account_rate_limit
            ),
            login_ipv6_prefix=reader.integer(
                "LOGIN_IPV6_PREFIX",
                default.login_ipv6_prefix,
                low=MIN_LOGIN_IPV6_PREFIX,
                high=MAX_LOGIN_IPV6_PREFIX,
            ),
            issuer=reader.text("ISSUER"),
            audience=reader.text("AUDIENCE"),
            cookie_secure=reader.boolean("COOKIE_SECURE", default=default.cookie_secure),
            argon2=Argon2Params(
                time_cost=reader.integer("ARGON2_TIME_COST", default.argon2.time_cost, low=1, high=100),
                memory_cost=reader.integer(
                    "ARGON2_MEMORY_COST", default.argon2.memory_cost, low=8, high=4 * 1024 * 1024
                ),
                parallelism=reader.integer("ARGON2_PARALLELISM", default.argon2.parallelism, low=1, high=64),
            ),
            argon2_queue=reader.integer("ARGON2_QUEUE", default.argon2_queue, low=0, high=MAX_ARGON2_QUEUE),
        )
        _check_argon2(settings.argon2)
        if env is Environment.PRODUCTION:
            _check_production(settings)
        return settings

    @property
    def policy(self) -> ClaimPolicy:
        """The claim policy every verified token must satisfy."""
        return ClaimPolicy(leeway=self.leeway, issuer=self.issuer, audience=self.audience)


def _check_argon2(params: Argon2Params) -> None:
    # Argon2 needs 8 KiB of memory per lane (RFC 9106 §3.1); less fails on the first hash, not here.
    if params.memory_cost < 8 * params.parallelism:
        raise SettingsError(
            f"{PREFIX}ARGON2_MEMORY_COST",
            f"must be at least 8 KiB per lane, {8 * params.parallelism} for "
            f"{PREFIX}ARGON2_PARALLELISM={params.parallelism}",
            str(params.memory_cost),
        )


def _check_production(settings: Settings) -> None:
    if not settings.cookie_secure:
        raise SettingsError(f"{PREFIX}COOKIE_SECURE", "must be true when TOKENBENCH_ENV=production")
    floor = PRODUCTION_ARGON2_FLOOR
    if settings.argon2.time_cost < floor.time_cost:
        raise SettingsError(f"{PREFIX}ARGON2_TIME_COST", f"must be at least {floor.time_cost} in production")
    if settings.argon2.memory_cost < floor.memory_cost:
        raise SettingsError(
            f"{PREFIX}ARGON2_MEMORY_COST", f"must be at least {floor.memory_cost} KiB in production"
        )
    # Without them a token of another deployment sharing a key (or a copied key ring) is accepted here.
    if settings.issuer is None:
        raise SettingsError(
            f"{PREFIX}ISSUER", "must be set when TOKENBENCH_ENV=production (e.g. https://auth.example.com)"
        )
    if settings.audience is None:
        raise SettingsError(
            f"{PREFIX}AUDIENCE", "must be set when TOKENBENCH_ENV=production (e.g. api.example.com)"
        )
    limits = {
        "LOGIN_RATE_LIMIT": settings.login_rate_limit,
        "LOGIN_ADDRESS_RATE_LIMIT": settings.login_address_rate_limit,
        "LOGIN_ACCOUNT_RATE_LIMIT": settings.login_account_rate_limit,
    }
    for name, limit in limits.items():
        if limit is None:
            raise SettingsError(PREFIX + name, "may not be off in production")
        if (
            limit.count > PRODUCTION_MAX_ATTEMPTS_PER_WINDOW
            or limit.count > limit.period * PRODUCTION_MAX_ATTEMPTS_PER_SECOND
        ):
            raise SettingsError(
                PREFIX + name,
                f"production allows at most {PRODUCTION_MAX_ATTEMPTS_PER_SECOND} attempt per second on "
                f"average and {PRODUCTION_MAX_ATTEMPTS_PER_WINDOW} per window "
                "(at most 60/minute, 1000/hour, 1000/day)",
                str(limit),
            )
    if settings.access_ttl > PRODUCTION_MAX_ACCESS_TTL:
        raise SettingsError(
            f"{PREFIX}ACCESS_TTL",
            f"must be at most {PRODUCTION_MAX_ACCESS_TTL} seconds in production (nothing revokes an access "
            "token before it expires)",
            str(settings.access_ttl),
        )


class _Reader:
    """Parses one variable at a time and names it in every error."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def text(self, name: str) -> str | None:
        value = self._environ.get(PREFIX + name, "").strip()
        return value or None

    def choice(self, name: str, enum_type: type[E], default: E) -> E:
        value = self.text(name)
        if value is None:
            return default
        try:
            return enum_type(value.lower())
        except ValueError:
            allowed = ", ".join(member.value for member in enum_type)
            raise SettingsError(PREFIX + name, f"must be one of {allowed}", value) from None

    def accept_formats(self, name: str, *, issued: FormatName) -> tuple[FormatName, ...]:
        value = self.text(name)
        if value is None:
            return ()
        names = [part.strip().lower() for part in value.split(",")]
        allowed = ", ".join(member.value for member in FormatName)
        accepted: list[FormatName] = []
        for part in names:
            try:
                fmt = FormatName(part)
            except ValueError:
                shown = f"{part!r} is not a format" if part else "an empty name"
                raise SettingsError(PREFIX + name, f"{shown}; formats are {allowed}", value) from None
            if fmt is issued:
                raise SettingsError(
                    PREFIX + name,
                    f"{fmt.value} is issued (TOKENBENCH_FORMAT); list only the formats still accepted",
                    value,
                )
            if fmt in accepted:
                raise SettingsError(PREFIX + name, f"{fmt.value} is listed twice", value)
            accepted.append(fmt)
        return tuple(accepted)

    def integer(
        self, name: str, default: int, *, low: int, high: int | None = None, low_text: str | None = None
    ) -> int:
        value = self.text(name)
        if value is None:
            if default < low:
                raise SettingsError(
                    PREFIX + name, f"must be set to at least {low_text or low} (default {default})"
                )
            return default
        problem = _range_text(low, high, low_text)
        if not re.fullmatch(r"[0-9]{1,10}", value):
            raise SettingsError(PREFIX + name, problem, value)
        number = int(value)
        if number < low or (high is not None and number > high):
            raise SettingsError(PREFIX + name, problem, value)
        return number

    def boolean(self, name: str, *, default: bool) -> bool:
        value = self.text(name)
        if value is None:
            return default
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise SettingsError(PREFIX + name, "must be true or false", value)

    def rate_limit(self, name: str, default: RateLimit | None) -> RateLimit | None:
        value = self.text(name)
        if value is None:
            return default
        if value.lower() == "off":
            return None
        match = _RATE.match(value.lower())
        if match is None or int(match.group(1)) == 0:
            raise SettingsError(
                PREFIX + name, "must look like 10/minute (per second, minute, hour or day) or be off", value
            )
        return RateLimit(count=int(match.group(1)), period=_PERIODS[match.group(2)])

    def http_url(self, name: str) -> str | None:
        value = self.text(name)
        if value is None:
            return None
        problem = "must be an http:// or https:// URL of the issuer (no query, no fragment)"
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError:
            raise SettingsError(PREFIX + name, problem, value) from None
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise SettingsError(PREFIX + name, problem, value)
        return value.rstrip("/")

    def database_url(self, name: str) -> Secret | None:
        value = self.text(name)
        if value is None:
            return None
        problem = "must be a sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB URL"
        try:
            url = make_url(value)
        except (ArgumentError, ValueError):
            raise SettingsError(PREFIX + name, problem) from None
        driver = _SQL_DRIVERS.get(url.drivername)
        if driver is None:
            raise SettingsError(PREFIX + name, f"{problem}; {url.drivername!r} is not supported")
        url = url.set(drivername=driver)
        if driver.startswith("sqlite") and url.database in (None, "", ":memory:"):
            raise SettingsError(PREFIX + name, "SQLite needs a file path (sqlite+aiosqlite:///var/x.db)")
        if driver.startswith("postgresql") and not url.database:
            raise SettingsError(PREFIX + name, "PostgreSQL URL names no database")
        return Secret(
            url.render_as_string(hide_password=False), shown=url.render_as_string(hide_password=True)
        )

    def redis_url(self, name: str) -> Secret | None:
        value = self.text(name)
        if value is None:
            return None
        if not value.startswith(_REDIS_SCHEMES):
            raise SettingsError(PREFIX + name, "must start with redis://, rediss:// or unix://")
        try:
            parse_redis_url(value)
        except ValueError as exc:  # e.g. a port or query option that is not a number
            raise SettingsError(PREFIX + name, f"must be a valid Redis URL ({exc})") from None
        try:
            shown = make_url(value).render_as_string(hide_password=True)
        except (ArgumentError, ValueError):
            shown = value.split("://", 1)[0] + "://***"
        return Secret(value, shown=shown)


def _range_text(low: int, high: int | None, low_text: str | None = None) -> str:
    if low_text is not None:
        return f"must be an integer of seconds from {low_text} to {high}"
    if high is None:
        return "must be a positive integer" if low == 1 else f"must be an integer >= {low}"
    return f"must be an integer between {low} and {high}"
