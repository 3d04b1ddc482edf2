"""Login throttling: three fixed-window counters, all checked before any argon2 work.

========================  ===================================  ==============================  ===========
setting                   counts                               key                             default
========================  ===================================  ==============================  ===========
``LOGIN_RATE_LIMIT``      every attempt                        user name and address           10/minute
``LOGIN_ADDRESS_...``     attempts that did not succeed        address                         30/minute
``LOGIN_ACCOUNT_...``     attempts that did not succeed        user name                       100/hour
========================  ===================================  ==============================  ===========

* The **address** is the peer's: an IPv4 address as is; an IPv6 address by its network of
  ``TOKENBENCH_LOGIN_IPV6_PREFIX`` bits, /56 by default (an ISP delegates a /56 or a /48 to one
  subscriber, who can use any address in it, so counting single IPv6 addresses, or even /64s, would let
  one subscriber count as 256 or more); an IPv6 address that carries an IPv4 address (IPv4-mapped,
  6to4, NAT64 ``64:ff9b::/96``, Teredo) as that IPv4 address (:func:`embedded_ipv4`). A peer that is not
  an IP address (a Unix socket, a test client) is its own key.
* The **user name** is case-folded, and counted whether or not the user exists: a limit that only
  existing users could reach would tell an attacker which names exist.
* "Did not succeed": each attempt is counted when it starts and, when the password matched, taken back
  again (:meth:`LoginAttempt.succeeded`), off the very window it was counted in: a window that ended
  during the password check and was followed by a new one keeps the new one's count. Counting first keeps
  concurrent guesses from all slipping past the check before any of them failed; taking successes back
  keeps an office behind one NAT address, or a user who logs in on many devices, from being limited by
  their own successful logins.
* The per-account limit lets anyone who knows a user name lock that user out of password logins for the
  rest of the window, at the price of the limit's worth of requests per window (``docs/design.md``).

Keys are fixed-size digests (a case-folded name can be three times as long as the name) with a prefix per
counter, so the counters never share a key.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from dataclasses import dataclass
from typing import Any, Final

from service.settings import DEFAULT_LOGIN_IPV6_PREFIX, RateLimit, Settings
from service.stores.base import Hit, RateLimited, RateLimiter, Window

__all__ = ["MAX_REMEMBERED_REFUSALS", "LoginAttempt", "LoginThrottle", "address_group", "embedded_ipv4"]

MAX_REMEMBERED_REFUSALS: Final = 10_000
NAT64_PREFIX: Final = ipaddress.IPv6Network("64:ff9b::/96")
"""The well-known NAT64 prefix (RFC 6052): a translator puts the IPv4 client's address in the last 32 bits."""


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, if it is one of the kinds that carry one.

    IPv4-mapped (``::ffff:192.0.2.1``, a dual-stack socket), 6to4 (``2002:c000:0201::/48``), the
    well-known NAT64 prefix (``64:ff9b::192.0.2.1``) and Teredo (``2001:0::/32``, the client's public
    address). Such a client is that IPv4 host, so it shares the IPv4 address's counter: switching between
    its IPv4 address and the IPv6 address that wraps it does not give it a second allowance.
    """
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64_PREFIX:
        return ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    if address.teredo is not None:
        return address.teredo[1]
    return None


def address_group(host: str | None, *, ipv6_prefix: int = DEFAULT_LOGIN_IPV6_PREFIX) -> str:
    """The address a limit counts: IPv4 as is, IPv6 by its ``/ipv6_prefix`` (or the IPv4 it carries)."""
    if not host:
        return "-"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        carried = embedded_ipv4(address)
        if carried is not None:
            return str(carried)
        return str(ipaddress.IPv6Network((address, ipv6_prefix), strict=False))
    return str(address)


def _hit(key: str, limit: RateLimit | None) -> Hit | None:
    return None if limit is None else Hit(key, limit.count, limit.period)


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def pair_key(username: str, address: str) -> str:
    """The per user name and address counter's key."""
    return _digest(f"{username.casefold()}|{address}")


def address_key(address: str) -> str:
    """The per address counter's key."""
    return "a:" + _digest(address)


def account_key(username: str) -> str:
    """The per account (user name) counter's key."""
    return "u:" + _digest(username.casefold())


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    """A counted login attempt; :meth:`succeeded` takes it back off the counters that count failures.

    :meth:`priority` is the current count of unsuccessful attempts of the attempt's address, as this
    process last saw it (0 when the per-address limit is off): the argon2 queue serves the attempts of
    addresses with fewer first, asking again at every decision, so a flood's early requests fall behind as
    their addresses keep failing (:meth:`service.passwords.PasswordHasher.verify`).
    """

    throttle: LoginThrottle
    refundable: tuple[Window, ...]
    address: str | None = None

    def priority(self) -> int:
        """The address's unsuccessful attempts in its current window, as last seen here."""
        return 0 if self.address is None else self.throttle.failures_of(self.address)

    async def succeeded(self) -> None:
        """The password matched: this attempt no longer counts against the address and the account."""
        if self.refundable:
            await self.throttle.limiter.refund(self.refundable)
        if self.address is not None:
            self.throttle.seen(self.address, self.throttle.failures_of(self.address) - 1)


class LoginThrottle:
    """The login limits of one app: counters shared in the store, and what this process has seen of them.

    Each attempt is counted on every limit in one store round trip (:meth:`RateLimiter.hit_all`). A refusal
    is remembered (per counter, until its window ends) so that a flood from a refused address, or against
    a refused account, costs no store round trip: each refused request is answered from memory.
    Remembering can only refuse, never admit: the store still decides every attempt that is not refused
    here. The latest count seen per address ranks the argon2 queue. Both maps hold at most
    :data:`MAX_REMEMBERED_REFUSALS` entries (the oldest tenth goes first).
    """

    def __init__(self, settings: Settings, limiter: RateLimiter) -> None:
        self._settings = settings
        self.limiter = limiter
        self._refused: dict[str, float] = {}
        self._failures: dict[str, int] = {}

    async def begin(self, *, username: str, host: str | None, now: float) -> LoginAttempt:
        """Count the attempt on every limit that is on; raise :class:`RateLimited` if any is past it."""
        settings = self._settings
        address = address_group(host, ipv6_prefix=settings.login_ipv6_prefix)
        by_address = _hit(address_key(address), settings.login_address_rate_limit)
        by_account = _hit(account_key(username), settings.login_account_rate_limit)
        by_pair = _hit(pair_key(username, address), settings.login_rate_limit)
        hits = [hit for hit in (by_address, by_account, by_pair) if hit is not None]
        for hit in hits:
            self._refuse_if_remembered(hit.key, now)
        if by_address is not None:  # rank the address by this attempt already, before the store answers
            self.seen(by_address.key, self.failures_of(by_address.key) + 1)
        try:
            windows = await self.limiter.hit_all(hits, now=now) if hits else ()
        except RateLimited as refused:
            for key in refused.keys:
                _bounded_set(self._refused, key, now + refused.retry_after)
            if by_address is not None and by_address.key in refused.keys:
                self.seen(by_address.key, by_address.limit + 1)
            raise
        if by_address is not None:
            self.seen(by_address.key, windows[0].count)
        failures = {hit.key for hit in (by_address, by_account) if hit is not None}
        refundable = tuple(window for window in windows if window.key in failures)
        return LoginAttempt(self, refundable, None if by_address is None else by_address.key)

    def failures_of(self, address: str) -> int:
        """The latest count of unsuccessful attempts this process saw for an address counter."""
        return self._failures.get(address, 0)

    def seen(self, address: str, count: int) -> None:
        """Record the latest count of an address counter."""
        _bounded_set(self._failures, address, max(0, count))

    def _refuse_if_remembered(self, key: str, now: float) -> None:
        until = self._refused.get(key)
        if until is None:
            return
        if now < until:
            raise RateLimited(max(1, math.ceil(until - now)))
        del self._refused[key]


def _bounded_set(mapping: dict[str, Any], key: str, value: Any) -> None:
    """``mapping[key] = value``, first dropping the oldest tenth when the map is full."""
    if key not in mapping and len(mapping) >= MAX_REMEMBERED_REFUSALS:
        for stale in list(mapping)[: MAX_REMEMBERED_REFUSALS // 10]:
            del mapping[stale]
    mapping.pop(key, None)
    mapping[key] = value
