"""What the service asks of its stores: users, refresh sessions and login rate limits.

One Protocol per concern and one module per backend (``sql.py``, ``redis.py``). Every operation that must
not race is one atomic step in the backend: :meth:`SessionStore.rotate` is a single compare-and-set (SQL
``UPDATE ... WHERE current_jti = :presented``, a Lua script in Redis), :meth:`RateLimiter.hit` a single
upsert or script; :meth:`SessionStore.start` checks the user's session generation that
:meth:`SessionStore.revoke_user` bumps, and :meth:`UserStore.set_role` / :meth:`UserStore.delete` check the
caller's current role and the last admin, each in the step that writes (the account rules in
:mod:`service.accounts` rely on it). Stores raise, never return flags: :class:`SessionReused` (the family
is revoked by the time it is raised), :class:`SessionRevoked`, :class:`SessionGenerationChanged`,
:class:`UserExists`, :class:`UserNotFound`, :class:`ActorNotAdmin`, :class:`LastAdmin`,
:class:`StoreUnavailable` for every connection-level failure of the backend, and :class:`StoreRejected`
when the backend refuses a value as data (the request's fault, not an outage), translated in one place
per backend.

Times cross this boundary as float seconds since the epoch, so every backend stores the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final, Protocol

import msgspec

from service.auth.roles import Role

__all__ = [
    "ADMIN_ROLE",
    "ActorNotAdmin",
    "Hit",
    "LastAdmin",
    "RateLimited",
    "RateLimiter",
    "Rotation",
    "SessionGenerationChanged",
    "SessionRecord",
    "SessionReused",
    "SessionRevoked",
    "SessionStore",
    "StoreError",
    "StoreRejected",
    "StoreUnavailable",
    "UserExists",
    "UserNamesCollide",
    "UserNotFound",
    "UserRecord",
    "UserStore",
    "Window",
    "refuse_past_limits",
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


class UserNamesCollide(StoreError):
    """The database holds users whose names differ only in case; user names are case-insensitive now.

    Raised when the tables are prepared (start-up, ``tokenbench users``): the message names the users and
    the statement that keeps one of them. Names that do not collide are lowered in place instead.
    """


class UserNotFound(StoreError):
    """No user with that name."""


class SessionRevoked(StoreError):
    """The family is unknown, expired or revoked (logout, role change, earlier reuse)."""


class SessionReused(StoreError):
    """A rotated refresh token came back after the grace window: the family has just been revoked."""


class SessionGenerationChanged(SessionRevoked):
    """A session start was refused: the user's sessions were revoked since the login read the user."""


# --- account rules the user store enforces inside its own transactions --------------------------------

ADMIN_ROLE: Final = Role.ADMIN.value
"""The role that administers users: at least one user must keep it, and admin writes need it *now*."""


class ActorNotAdmin(StoreError):
    """The caller of an admin write no longer exists or no longer has :data:`ADMIN_ROLE` (403)."""


class LastAdmin(StoreError):
    """Demoting or deleting this user would leave no user with :data:`ADMIN_ROLE` (409)."""


class RateLimited(StoreError):
    """Too many attempts: ``retry_after`` in whole seconds (>= 1); ``keys``, the counters past their limit."""

    def __init__(self, retry_after: int, keys: tuple[str, ...] = ()) -> None:
        super().__init__(f"rate limited; retry after {retry_after} s")
        self.retry_after = retry_after
        self.keys = keys


class Hit(msgspec.Struct, frozen=True):
    """One counter an attempt counts on: at most ``limit`` attempts per ``period`` seconds."""

    key: str
    limit: int
    period: int


class Window(msgspec.Struct, frozen=True):
    """A counter's running window as one attempt left it: when it started and ends, and its ``count``.

    The start names the window: :meth:`RateLimiter.refund` takes an attempt back only off the window that
    started then, never off a later one that began while the attempt was being decided.
    """

    key: str
    start: float
    end: float
    count: int


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
    role: str | None = None
    """The family's user's role, read in the rotation's own step (``read_role``); else None."""


class UserStore(Protocol):
    """Users: name, role and argon2id hash."""

    async def get(self, username: str) -> UserRecord | None:
        """The user, or None."""
        ...

    async def create(
        self, username: str, *, role: str, password_hash: str, now: float, actor: str | None = None
    ) -> UserRecord:
        """Add a user; raises :class:`UserExists`, or :class:`ActorNotAdmin` (see :meth:`set_role`)."""
        ...

    async def list(self) -> list[UserRecord]:
        """Every user, by name."""
        ...

    async def set_role(self, username: str, role: str, *, actor: str | None = None) -> UserRecord:
        """Change a user's role; raises :class:`UserNotFound`.

        One transaction, serialized with every other admin write, that first checks the current state:
        ``actor`` (the caller of an admin route; ``None`` for the CLI) must still exist with
        :data:`ADMIN_ROLE`, else :class:`ActorNotAdmin`; demoting the last user with that role raises
        :class:`LastAdmin`. So two concurrent demotions cannot leave no admin.
        """
        ...

    async def set_password_hash(self, username: str, password_hash: str) -> None:
        """Replace a user's hash (password change); raises :class:`UserNotFound`."""
        ...

    async def replace_password_hash(self, username: str, *, old: str, new: str) -> bool:
        """Compare-and-set: store ``new`` only if the hash is still ``old`` (a login's rehash)."""
        ...

    async def delete(self, username: str, *, actor: str | None = None) -> None:
        """Remove a user; raises :class:`UserNotFound`, :class:`ActorNotAdmin` or :class:`LastAdmin`."""
        ...

    async def ping(self) -> None:
        """Raise :class:`StoreUnavailable` unless the backend answers."""
        ...


class SessionStore(Protocol):
    """Refresh-token families (RFC 9700 §4.14): one per login, rotated on every refresh.

    ``checks_users`` is true when the families live beside the users (SQL): :meth:`rotate` can then read
    the family's user in its own atomic step (its ``read_role`` argument). A store that holds no users
    (Redis) refuses that argument, and its caller reads the user itself after the rotation.
    """

    checks_users: bool

    async def generation(self, username: str) -> int:
        """The user's session generation: 0, plus one for every :meth:`revoke_user` so far."""
        ...

    async def start(
        self, family: str, *, username: str, jti: str, expires_at: float, now: float, generation: int
    ) -> None:
        """Record a new family whose current token is ``jti`` (version 0).

        Only if the user's session generation is still ``generation`` (read before the login read the
        user), checked in the same atomic step as the insert; else :class:`SessionGenerationChanged`.
        """
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
        read_role: bool = False,
    ) -> Rotation:
        """Replace the family's current token ``presented_jti`` by ``successor_jti``, atomically.

        Exactly one of any number of concurrent calls with the same ``presented_jti`` wins. A loser, or a
        later retry, that presents the token rotated at most ``grace`` seconds ago gets the winner's
        sealed successor. Any other presented token of the family is reuse: the family is revoked and
        :class:`SessionReused` raised. An unknown, expired or revoked family raises
        :class:`SessionRevoked`; so does a family that started ``max_age`` seconds or more before ``now``
        (its login is too old, however often it was refreshed), which is revoked on the way. The family's
        new expiry is ``expires_at`` or ``started + max_age``, whichever comes first.

        With ``read_role`` (only where :attr:`checks_users`), the family's user is read in the same atomic
        step: :attr:`Rotation.role` is its role as of the rotation, and a family whose user is gone is
        revoked (:class:`SessionRevoked`), grace retries included.
        """
        ...

    async def revoke_family(self, family: str, *, now: float) -> bool:
        """Revoke one family (logout); False if it was unknown or already revoked."""
        ...

    async def revoke_user(self, username: str, *, now: float) -> int:
        """Revoke every family of a user and bump the user's session generation, atomically.

        Every revocation calls it (logout-all, role or password change, deletion); a login that read the
        generation before this call cannot start a session after it. Returns how many families were live.
        """
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
    """Fixed-window attempt counters shared by every service process using the backend.

    A window ends ``period`` seconds after its first attempt; the backend forgets it soon after (SQL
    deletes ended windows through an index on their end, Redis expires the key), so a flood of new keys
    leaves no more rows behind than the windows still running.
    """

    async def hit(self, key: str, *, limit: int, period: int, now: float) -> int:
        """Count one attempt for ``key``; raise :class:`RateLimited` past ``limit`` per ``period``.

        Returns the attempts counted in the running window, this one included.
        """
        ...

    async def hit_all(self, hits: Sequence[Hit], *, now: float) -> tuple[Window, ...]:
        """Count one attempt on every counter in one step; each counter's window, in order.

        Every counter counts the attempt; if any is past its limit, :class:`RateLimited` names those and
        the longest wait.
        """
        ...

    async def refund(self, windows: Sequence[Window]) -> None:
        """Take one attempt back off each window (a login that succeeded); never below 0.

        Only off the window :meth:`hit_all` counted the attempt in: if that window has ended and a new one
        started (the attempt took longer than what was left of it), the new window keeps its count.
        """
        ...


def refuse_past_limits(hits: Sequence[Hit], windows: Sequence[Window], *, now: float) -> tuple[Window, ...]:
    """The windows, unless a counter is past its limit: then raise :class:`RateLimited` for those.

    The same rule for every backend: the wait is the longest among the counters past their limit.
    """
    past = [
        (hit.key, window.end) for hit, window in zip(hits, windows, strict=True) if window.count > hit.limit
    ]
    if past:
        wait = max(end for _, end in past) - now
        raise RateLimited(max(1, math.ceil(wait)), tuple(key for key, _ in past))
    return tuple(windows)
