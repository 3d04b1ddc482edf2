"""Redis backend for refresh sessions and login rate limits, shared by every service process.

Users stay in SQL (they are durable records); sessions and attempt counters are short-lived state that
several processes must see at once. Each operation that must not race is one Lua script, which Redis runs
atomically: :data:`_ROTATE` is the compare-and-set of :meth:`RedisSessionStore.rotate`, :data:`_HIT` the
fixed-window counter (:data:`_REFUND` takes an attempt back). Keys expire with the family or window they
describe, so Redis forgets dead sessions and ended windows itself.

Layout (``prefix`` defaults to ``tokenbench:``): a hash ``<prefix>session:<family>`` per family, a set
``<prefix>user-sessions:<username>`` of a user's families, for logout-all and role changes, and a counter
``<prefix>user-generation:<username>``, the user's session generation: :data:`_REVOKE_USER` increments it
and :data:`_START` refuses a family whose login read an older value (the counter never expires). The scripts
build the set's key from the prefix, so this layout needs a single Redis (no cluster).

Connection errors are translated to :class:`StoreUnavailable` in :func:`_translate`; a value redis-py
cannot send (a lone surrogate, a type it refuses) to :class:`StoreRejected`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Final

from redis.asyncio import Redis
from redis.exceptions import DataError, RedisError

from service.stores.base import (
    Hit,
    Rotation,
    SessionGenerationChanged,
    SessionRecord,
    SessionReused,
    SessionRevoked,
    StoreRejected,
    StoreUnavailable,
    Window,
    refuse_past_limits,
)

__all__ = ["RedisRateLimiter", "RedisSessionStore", "connect"]

DEFAULT_PREFIX: Final = "tokenbench:"

# KEYS: session, user set, user generation; ARGV: username, jti, now, expires_at, family, generation
_START: Final = """
if tonumber(redis.call('GET', KEYS[3]) or '0') ~= tonumber(ARGV[6]) then return 0 end
redis.call('HSET', KEYS[1], 'username', ARGV[1], 'current_jti', ARGV[2], 'ver', 0,
           'created_at', ARGV[3], 'expires_at', ARGV[4])
local want = math.ceil((tonumber(ARGV[4]) - tonumber(ARGV[3])) * 1000)
redis.call('PEXPIRE', KEYS[1], want)
redis.call('SADD', KEYS[2], ARGV[5])
if redis.call('PTTL', KEYS[2]) < want then redis.call('PEXPIRE', KEYS[2], want) end
return 1
"""

# ARGV: presented, successor, sealed, now, grace, expires_at, user-set prefix, max_age. Times come back as
# strings: Redis would truncate a Lua number to an integer.
_ROTATE: Final = """
local s = redis.call('HMGET', KEYS[1], 'current_jti', 'previous_jti', 'rotated_at', 'sealed',
                     'revoked_at', 'username', 'expires_at', 'created_at')
local now = tonumber(ARGV[4])
if not s[1] or s[5] then return {'revoked'} end
local deadline = tonumber(s[8]) + tonumber(ARGV[8])
if deadline <= now then
  redis.call('HSET', KEYS[1], 'revoked_at', ARGV[4])
  redis.call('HDEL', KEYS[1], 'sealed')
  return {'revoked'}
end
if tonumber(s[7]) <= now then return {'revoked'} end
if s[1] == ARGV[1] then
  local expires = ARGV[6]
  if deadline < tonumber(ARGV[6]) then expires = string.format('%.6f', deadline) end
  redis.call('HSET', KEYS[1], 'previous_jti', ARGV[1], 'current_jti', ARGV[2], 'sealed', ARGV[3],
             'rotated_at', ARGV[4], 'expires_at', expires)
  redis.call('HINCRBY', KEYS[1], 'ver', 1)
  local want = math.ceil((tonumber(expires) - now) * 1000)
  redis.call('PEXPIRE', KEYS[1], want)
  local set = ARGV[7] .. s[6]
  if redis.call('PTTL', set) < want then redis.call('PEXPIRE', set, want) end
  return {'winner', ARGV[3], expires}
end
local grace = tonumber(ARGV[5])
if grace > 0 and s[2] == ARGV[1] and s[3] and now <= tonumber(s[3]) + grace and s[4] then
  return {'retry', s[4], s[7]}
end
redis.call('HSET', KEYS[1], 'revoked_at', ARGV[4])
redis.call('HDEL', KEYS[1], 'sealed')
return {'reused'}
"""

_REVOKE: Final = """
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HEXISTS', KEYS[1], 'revoked_at') == 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'revoked_at', ARGV[1])
redis.call('HDEL', KEYS[1], 'sealed')
return 1
"""

# KEYS: user set, user generation; ARGV: now, session-key prefix
_REVOKE_USER: Final = """
redis.call('INCR', KEYS[2])
local n = 0
for _, family in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[2] .. family
  if redis.call('EXISTS', key) == 0 then
    redis.call('SREM', KEYS[1], family)
  elseif redis.call('HEXISTS', key, 'revoked_at') == 0 then
    redis.call('HSET', key, 'revoked_at', ARGV[1])
    redis.call('HDEL', key, 'sealed')
    n = n + 1
  end
end
return n
"""

# KEYS: the counters; ARGV: now, then each counter's period (seconds). Returns {count, window start} per
# counter. Same window rule as the SQL store, on the service's clock; the key's expiry only garbage-collects.
_HIT: Final = """
local now = tonumber(ARGV[1])
local out = {}
for i, key in ipairs(KEYS) do
  local period = tonumber(ARGV[i + 1])
  local w = redis.call('HMGET', key, 'start', 'count')
  if not w[1] or now >= tonumber(w[1]) + period then
    redis.call('HSET', key, 'start', ARGV[1], 'count', 1)
    redis.call('PEXPIRE', key, period * 1000 + 1000)
    out[#out + 1] = 1
    out[#out + 1] = ARGV[1]
  else
    out[#out + 1] = redis.call('HINCRBY', key, 'count', 1)
    out[#out + 1] = w[1]
  end
end
return out
"""

# KEYS: the counters; ARGV: the start of each counter's window the attempt was counted in. Takes one
# attempt back off each counter whose window is still that one.
_REFUND: Final = """
for i, key in ipairs(KEYS) do
  local w = redis.call('HMGET', key, 'start', 'count')
  if w[1] and tonumber(w[1]) == tonumber(ARGV[i]) and tonumber(w[2]) > 0 then
    redis.call('HINCRBY', key, 'count', -1)
  end
end
return 1
"""


def connect(url: str) -> Redis:
    """A Redis client for ``url`` with short timeouts, so an outage fails fast (503), never hangs."""
    client: Redis = Redis.from_url(
        url, decode_responses=False, socket_timeout=2.0, socket_connect_timeout=2.0, health_check_interval=30
    )
    return client


@asynccontextmanager
async def _translate() -> AsyncIterator[None]:
    try:
        yield
    except (DataError, UnicodeError) as exc:
        raise StoreRejected(f"redis refused a value: {type(exc).__name__}") from exc
    except (RedisError, OSError, TimeoutError) as exc:
        raise StoreUnavailable(f"redis unavailable: {type(exc).__name__}") from exc


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _number(value: Any) -> float | None:
    return None if value is None else float(_text(value))


class _RedisStore:
    def __init__(self, client: Redis, *, prefix: str = DEFAULT_PREFIX) -> None:
        self._client = client
        self._prefix = prefix

    async def ping(self) -> None:
        """Raise :class:`StoreUnavailable` unless Redis answers PING."""
        async with _translate():
            await self._client.ping()


class RedisSessionStore(_RedisStore):
    """Refresh-token families as Redis hashes; rotation is one Lua script. The users are elsewhere (SQL)."""

    checks_users = False

    def __init__(self, client: Redis, *, prefix: str = DEFAULT_PREFIX) -> None:
        super().__init__(client, prefix=prefix)
        self._start = client.register_script(_START)
        self._rotate = client.register_script(_ROTATE)
        self._revoke = client.register_script(_REVOKE)
        self._revoke_user = client.register_script(_REVOKE_USER)

    def _session_key(self, family: str) -> str:
        return f"{self._prefix}session:{family}"

    def _user_key(self, username: str) -> str:
        return f"{self._prefix}user-sessions:{username}"

    def _generation_key(self, username: str) -> str:
        return f"{self._prefix}user-generation:{username}"

    async def generation(self, username: str) -> int:
        """The user's session generation (0 if never revoked)."""
        async with _translate():
            value = await self._client.get(self._generation_key(username))
        return 0 if value is None else int(_text(value))

    async def start(
        self, family: str, *, username: str, jti: str, expires_at: float, now: float, generation: int
    ) -> None:
        """Record a new family if the user's generation is still ``generation`` (one script)."""
        async with _translate():
            started = await self._start(
                keys=[self._session_key(family), self._user_key(username), self._generation_key(username)],
                args=[username, jti, repr(now), repr(expires_at), family, generation],
            )
        if not started:
            raise SessionGenerationChanged(username)

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
        """One Lua compare-and-set; see :meth:`service.stores.base.SessionStore.rotate`.

        Redis holds no users, so it cannot ``read_role`` (:attr:`checks_users` is false): ValueError.
        """
        if read_role:
            raise ValueError("the Redis session store holds no users: read the user before rotating")
        async with _translate():
            result = await self._rotate(
                keys=[self._session_key(family)],
                args=[
                    presented_jti,
                    successor_jti,
                    sealed_successor,
                    repr(now),
                    grace,
                    repr(expires_at),
                    f"{self._prefix}user-sessions:",
                    repr(max_age),
                ],
            )
        outcome = _text(result[0])
        if outcome == "winner":
            return Rotation(
                winner=True, sealed_successor=sealed_successor, expires_at=float(_text(result[2]))
            )
        if outcome == "retry":
            return Rotation(
                winner=False, sealed_successor=bytes(result[1]), expires_at=float(_text(result[2]))
            )
        if outcome == "reused":
            raise SessionReused(family)
        raise SessionRevoked(family)

    async def revoke_family(self, family: str, *, now: float) -> bool:
        """Revoke one family; False if unknown or already revoked."""
        async with _translate():
            return bool(await self._revoke(keys=[self._session_key(family)], args=[repr(now)]))

    async def revoke_user(self, username: str, *, now: float) -> int:
        """Revoke every live family of ``username``."""
        async with _translate():
            count = await self._revoke_user(
                keys=[self._user_key(username), self._generation_key(username)],
                args=[repr(now), f"{self._prefix}session:"],
            )
        return int(count)

    async def get(self, family: str) -> SessionRecord | None:
        """The family's record, or None."""
        async with _translate():
            raw = await self._client.hgetall(self._session_key(family))
        if not raw:
            return None
        fields = {_text(k): v for k, v in raw.items()}
        return SessionRecord(
            family=family,
            username=_text(fields["username"]),
            current_jti=_text(fields["current_jti"]),
            ver=int(_text(fields["ver"])),
            previous_jti=_text(fields["previous_jti"]) if "previous_jti" in fields else None,
            rotated_at=_number(fields.get("rotated_at")),
            expires_at=float(_text(fields["expires_at"])),
            revoked_at=_number(fields.get("revoked_at")),
        )

    async def purge(self, *, now: float) -> int:  # noqa: ARG002 - same signature as the SQL store
        """Nothing to do: family keys expire in Redis with their refresh token."""
        return 0


class RedisRateLimiter(_RedisStore):
    """Fixed-window counters, one hash per key, counted by one script."""

    def __init__(self, client: Redis, *, prefix: str = DEFAULT_PREFIX) -> None:
        super().__init__(client, prefix=prefix)
        self._hit = client.register_script(_HIT)
        self._refund = client.register_script(_REFUND)

    async def hit(self, key: str, *, limit: int, period: int, now: float) -> int:
        """Count an attempt; raise :class:`RateLimited` past ``limit`` per ``period`` seconds; the count."""
        (window,) = await self.hit_all([Hit(key, limit, period)], now=now)
        return window.count

    async def hit_all(self, hits: Sequence[Hit], *, now: float) -> tuple[Window, ...]:
        """One script over every counter; see :meth:`service.stores.base.RateLimiter.hit_all`."""
        async with _translate():
            flat = await self._hit(keys=self._keys(hits), args=[repr(now), *(hit.period for hit in hits)])
        windows = [
            Window(hit.key, float(_text(start)), float(_text(start)) + hit.period, int(count))
            for hit, count, start in zip(hits, flat[0::2], flat[1::2], strict=True)
        ]
        return refuse_past_limits(hits, windows, now=now)

    async def refund(self, windows: Sequence[Window]) -> None:
        """Take one attempt back off each window, if it is still the key's window; never below zero."""
        async with _translate():
            await self._refund(
                keys=[f"{self._prefix}login:{window.key}" for window in windows],
                args=[repr(window.start) for window in windows],
            )

    def _keys(self, hits: Sequence[Hit]) -> list[str]:
        return [f"{self._prefix}login:{hit.key}" for hit in hits]
