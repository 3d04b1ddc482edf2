"""The key-set client: an issuer's public keys, fetched over HTTP, cached, and followed through rotations.

* **Cache**: the document is kept for the issuer's ``Cache-Control: max-age`` (clamped to 1..3600 s;
  ``default_max_age`` without one), then refetched by a background task, off the request path.
* **Unknown key id**: a token naming a key the set does not have triggers one refetch, shared by every
  request waiting for it (single flight) and at most once per ``min_refetch_interval`` seconds counted
  from the last fetch of any kind, so a flood of random ``kid`` values cannot turn the verifier into a load
  generator against the issuer. A request that arrives inside that interval gets 401 at once.
* **Issuer down**: the last good set keeps verifying (``/health`` says since when and the last error).
* **Never had a set**: every token is refused, 401 ``token_unknown_key`` (fail closed).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import time
from collections.abc import Callable
from datetime import datetime
from typing import Final

import httpx
import msgspec

from formats import FORMATS, ClaimPolicy, Claims, Clock, FormatName, KeyConfigError, Kind, TokenFormat
from formats.claims import utc_now
from formats.errors import TokenUnknownKey
from service.background import stop_task

__all__ = ["KeySetClient", "KeySetStatus", "symmetric_refusal"]

logger = logging.getLogger("tokenbench")

MAX_DOCUMENT_BYTES: Final = 256 * 1024
MIN_MAX_AGE: Final = 1.0
MAX_MAX_AGE: Final = 3600.0
_MAX_AGE: Final = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d{1,10})\"?", re.IGNORECASE)
_NO_CACHE: Final = re.compile(r"(?:^|[,\s])(?:no-store|no-cache)(?:$|[,\s])", re.IGNORECASE)


def symmetric_refusal(name: FormatName | str) -> str | None:
    """Why ``name`` cannot be verified from published keys (one line), or None if it can."""
    fmt = FORMATS[FormatName(name)]
    if fmt.public_document is not None:
        return None
    usable = ", ".join(n.value for n, f in FORMATS.items() if f.public_document is not None)
    return (
        f"{fmt.name.value} is symmetric: a verifier must hold the very secret that signs, and whoever holds "
        "it can mint tokens for anyone (docs/failure-modes.md, WEAK-SYMMETRIC-KEY: a recovered secret "
        f"signs whatever it likes; docs/scale-out.md); a verify-only service needs {usable}"
    )


class KeySetStatus(msgspec.Struct, frozen=True, kw_only=True):
    """What ``/health`` of a verifier says about its keys."""

    source: str
    """The URL of the issuer's key document."""
    kids: tuple[str, ...]
    fetched_at: str | None
    """When the set in use was fetched (None: never, every token is refused)."""
    max_age: float
    last_attempt_at: str | None
    last_error: str | None
    """Why the last fetch failed (None if it worked): the set in use is then the last good one."""


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds").replace("+00:00", "Z")


class _FetchError(Exception):
    pass


class KeySetClient:
    """The published keys of ``issuer_url`` for format ``name``; :meth:`verify` checks a token with them."""

    def __init__(
        self,
        issuer_url: str,
        name: FormatName | str,
        *,
        policy: ClaimPolicy | None = None,
        clock: Clock = utc_now,
        default_max_age: float = 10.0,
        min_refetch_interval: float = 5.0,
        timeout: float = 3.0,
        transport: httpx.AsyncBaseTransport | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        refusal = symmetric_refusal(name)
        if refusal is not None:
            raise KeyConfigError(refusal)
        self._format = FORMATS[FormatName(name)]
        self.url = f"{issuer_url.rstrip('/')}/.well-known/{self._format.public_document}"
        self._policy = policy
        self._clock = clock
        self._default_max_age = default_max_age
        self._min_refetch_interval = min_refetch_interval
        self._timeout = timeout
        self._transport = transport
        self._monotonic = monotonic
        self._ring: TokenFormat | None = None
        self._max_age = default_max_age
        self._fetched_at: datetime | None = None
        self._attempted_at: datetime | None = None
        self._last_error: str | None = None
        self._last_attempt = -math.inf
        self._next_due = 0.0
        self._inflight: asyncio.Task[bool] | None = None
        self._http: httpx.AsyncClient | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def format_name(self) -> FormatName:
        """The token format this client verifies."""
        return self._format.name

    @property
    def has_keys(self) -> bool:
        """True once a key set has been fetched."""
        return self._ring is not None

    def status(self) -> KeySetStatus:
        """Where the keys come from, which they are, and when they were fetched."""
        return KeySetStatus(
            source=self.url,
            kids=() if self._ring is None else self._ring.kids,
            fetched_at=_iso(self._fetched_at),
            max_age=self._max_age,
            last_attempt_at=_iso(self._attempted_at),
            last_error=self._last_error,
        )

    # --- lifecycle ----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the HTTP client, fetch once (a failure is logged, not raised) and start the refresher."""
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self._timeout, transport=self._transport)
        await self.refresh()
        self._task = asyncio.get_running_loop().create_task(self._refresher(), name="tokenbench-key-set")

    async def close(self) -> None:
        """Stop the refresher and close the HTTP client."""
        await stop_task(self._task)
        self._task = None
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def __aenter__(self) -> KeySetClient:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def _refresher(self) -> None:
        while True:
            await asyncio.sleep(max(self._next_due - self._monotonic(), 0.05))
            if self._monotonic() >= self._next_due:
                await self.refresh()

    # --- fetching -----------------------------------------------------------------------------------

    async def refresh(self) -> bool:
        """Fetch the document now, or join the fetch already running; True if a new set is in use."""
        if self._inflight is None:
            task = asyncio.get_running_loop().create_task(self._fetch())
            self._inflight = task
            task.add_done_callback(self._fetch_done)
        return await asyncio.shield(self._inflight)

    def _fetch_done(self, task: asyncio.Task[bool]) -> None:
        if self._inflight is task:
            self._inflight = None

    async def _fetch(self) -> bool:
        self._last_attempt = self._monotonic()
        self._attempted_at = self._clock()
        try:
            body, cache_control = await self._download()
            ring = self._format.from_public_document(
                json.loads(body), source=self.url, policy=self._policy, clock=self._clock
            )
        except (httpx.HTTPError, _FetchError, ValueError) as exc:  # KeyConfigError is a ValueError
            self._last_error = f"{type(exc).__name__}: {exc}"[:300]
            self._next_due = self._monotonic() + self._min_refetch_interval
            logger.warning(
                "key set %s: fetch failed (%s); %s",
                self.url,
                self._last_error,
                "still verifying with the set fetched at " + str(_iso(self._fetched_at))
                if self._ring is not None
                else "no key set yet: every token is refused",
            )
            return False
        self._ring = ring
        self._fetched_at = self._clock()
        self._max_age = self._max_age_of(cache_control)
        self._next_due = self._monotonic() + self._max_age
        self._last_error = None
        return True

    async def _download(self) -> tuple[bytes, str]:
        """The document's bytes (at most MAX_DOCUMENT_BYTES) and its Cache-Control header."""
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self._timeout, transport=self._transport)
        async with self._http.stream("GET", self.url, headers={"Accept": "application/json"}) as response:
            if response.status_code != 200:
                raise _FetchError(f"HTTP {response.status_code}")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise _FetchError(f"document over {MAX_DOCUMENT_BYTES} bytes")
            return bytes(body), response.headers.get("cache-control", "")

    def _max_age_of(self, cache_control: str) -> float:
        if _NO_CACHE.search(cache_control):
            return MIN_MAX_AGE
        match = _MAX_AGE.search(cache_control)
        seconds = float(match.group(1)) if match else self._default_max_age
        return min(max(seconds, MIN_MAX_AGE), MAX_MAX_AGE)

    async def _refetch_for_unknown_key(self) -> bool:
        if self._inflight is None and self._monotonic() - self._last_attempt < self._min_refetch_interval:
            return False  # fetched a moment ago: a new fetch would find the same set
        return await self.refresh()

    # --- verifying ----------------------------------------------------------------------------------

    async def verify(self, token: str, *, kind: Kind = Kind.ACCESS) -> Claims:
        """The verified claims of ``token``; raises :class:`formats.TokenError` (401 in the service)."""
        ring = self._ring
        if ring is not None:
            try:
                return ring.verify(token, kind=kind)
            except TokenUnknownKey:
                pass
        if await self._refetch_for_unknown_key() and self._ring is not None:
            return self._ring.verify(token, kind=kind)
        if self._ring is None:
            raise TokenUnknownKey("no key set from the issuer yet")
        raise TokenUnknownKey("no key with this kid")
