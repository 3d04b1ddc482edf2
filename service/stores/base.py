"""What the service asks of its stores: users, refresh sessions and login rate limits.

One Protocol per concern and one module per backend (``sql.py``, ``redis.py``). Every operation that must
not race is one atomic step in the backend: :meth:`SessionStore.rotate` is a single compare-and-set (SQL
``UPDATE ... WHERE current_jti = :presented``, a Lua script in Redis), :meth:`RateLimiter.hit` a single
upsert or script. Stores raise, never return flags: :class:`SessionReused` (the family is revoked by the
time it is raised), :class:`SessionRevoked`, :class:`UserExists`, :class:`UserNotFound`,
:class:`StoreUnavailable` for every connection-level failure of the backend, and :class:`StoreRejected`
when the backend refuses a value as data (the request's fault, not an outage), translated in one place
per backend.

Times cross this boundary as float seconds since the epoch, so every backend stores the same numbers.
"""

from __future__ import annotations

from typing import Protocol

import msgspec

__all__ = [
    "RateLimited",
    "RateLimiter",
    "Rotation",
    "SessionRecord",
    "SessionReused",
    "SessionRevoked",
    "SessionStore",
    "StoreError",
    "StoreRejected",
    "StoreUnavailable",
    "UserExists",
    "UserNotFound",
    "UserRecord",
    "UserStore",
]


class StoreError(Exception):
    """Base of every error a store raises."""


class StoreUnavailable(StoreError):
    """The backend cannot be reached or failed; login and refresh fail closed (503)."""


class StoreRejected(StoreError):
    """The backend refused a value of the request as data; the store is fine, the request is not (400).

    A NUL byte or an unencodable character in a name, a string too long for its column (SQLSTATE class 22).
    """


class UserExists(StoreError):
    """A user with that name already exists."""


class UserNotFound(StoreError):
    """No user with that name."""


class SessionRevoked(StoreError):
    """The family is unknown, expired or revoked (logout, role change, earlier reuse)."""


class SessionReused(StoreError):
    """A rotated refresh token came back after the grace window: the family has just been revoked."""


class RateLimited(StoreError):
    """Too many attempts for this key; ``retry_after`` is in whole seconds (>= 1)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limited; retry after {retry_after} s")
        self.retry_after = retry_after


class UserRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A stored user. ``password_hash`` never leaves the service (the admin listing drops it)."""

    username: str
    role: str
    password_hash: str
    created_at: float


class SessionRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One refresh-token family as the store holds it (for inspection and tests)."""

    family: str
    username: str
    current_jti: str
    ver: int
    previous_jti: str | None
    rotated_at: float | None
    expires_at: float
    revoked_at: float | None


class Rotation(msgspec.Struct, frozen=True, kw_only=True):
    """The result of :meth:`SessionStore.rotate` when it does not raise.

    ``winner`` is true when this call moved the family forward (its successor is now current). Otherwise
    it was a retry of the token just rotated, within the grace window, and ``sealed_successor`` is the
    successor the winner stored: the caller unseals it and returns the very same token. ``expires_at`` is
    when the family now ends: the successor's expiry, or the family's absolute end if that comes first.
    """

    winner: bool
    sealed_successor: bytes
    expires_at: float


class UserStore(Protocol):
    """Users: name, role and argon2id hash."""

    async def get(self, username: str) -> UserRecord | None:
        """The user, or None."""
        ...

    async def create(self, username: str, *, role: str, password_hash: str, now: float) -> UserRecord:
        """Add a user; raises :class:`UserExists`."""
        ...

    async def list(self) -> list[UserRecord]:
        """Every user, by name."""
        ...

    async def set_role(self, username: str, role: str) -> UserRecord:
        """Change a user's role; raises :class:`UserNotFound`."""
        ...

    async def set_password_hash(self, username: str, password_hash: str) -> None:
        """Replace a user's hash (password change or rehash); raises :class:`UserNotFound`."""
        ...

    async def delete(self, username: str) -> None:
        """Remove a user; raises :class:`UserNotFound`."""
        ...

    async def ping(self) -> None:
        """Raise :class:`StoreUnavailable` unless the backend answers."""
        ...


class SessionStore(Protocol):
    """Refresh-token families (RFC 9700 §4.14): one per login, rotated on every refresh."""

    async def start(self, family: str, *, username: str, jti: str, expires_at: float, now: float) -> None:
        """Record a new family whose current token is ``jti`` (version 0)."""
        ...

    async def rotate(
        self,
        family: str,
        *,
        presented_jti: str,
        successor_jti: str,
        sealed_successor: bytes,
        expires_at: float,
        now: float,
        grace: int,
        max_age: float,
    ) -> Rotation:
        """Replace the family's current token ``presented_jti`` by ``successor_jti``, atomically.

        Exactly one of any number of concurrent calls with the same ``presented_jti`` wins. A loser, or a
        later retry, that presents the token rotated at most ``grace`` seconds ago gets the winner's
        sealed successor. Any other presented token of the family is reuse: the family is revoked and
        :class:`SessionReused` raised. An unknown, expired or revoked family raises
        :class:`SessionRevoked`; so does a family that started ``max_age`` seconds or more before ``now``
        (its login is too old, however often it was refreshed), which is revoked on the way. The family's
        new expiry is ``expires_at`` or ``started + max_age``, whichever comes first.
        """
        ...

    async def revoke_family(self, family: str, *, now: float) -> bool:
        """Revoke one family (logout); False if it was unknown or already revoked."""
        ...

    async def revoke_user(self, username: str, *, now: float) -> int:
        """Revoke every family of a user (logout-all, role change, deletion); returns how many."""
        ...

    async def get(self, family: str) -> SessionRecord | None:
        """The family's record, or None."""
        ...

    async def purge(self, *, now: float) -> int:
        """Forget families that expired before ``now``; returns how many."""
        ...

    async def ping(self) -> None:
        """Raise :class:`StoreUnavailable` unless the backend answers."""
        ...


class RateLimiter(Protocol):
    """Fixed-window attempt counters shared by every service process using the backend."""

    async def hit(self, key: str, *, limit: int, period: int, now: float) -> None:
        """Count one attempt for ``key``; raise :class:`RateLimited` past ``limit`` per ``period``."""
        ...
