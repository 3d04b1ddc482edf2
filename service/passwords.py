"""argon2id password hashing, off the event loop, with a bounded queue and equal work for every failure.

* Hashing and verifying run in the hasher's own worker threads so a login never stalls the
  requests being verified on the loop. A semaphore lets at most ``cpu_count - 1`` hashes (at least one)
  run at once: with one argon2 lane each (the default parallelism), one core always stays free for the
  event loop, so a login flood queues logins instead of starving token verification (and each hash
  holds ``memory_cost`` KiB, so memory stays bounded too). On Linux the hashing threads also run at the
  lowest CPU priority (nice 19), so whatever else shares the machine wins the core first.
* The queue in front of the slots is bounded (``TOKENBENCH_ARGON2_QUEUE`` password checks may wait): past
  it :meth:`PasswordHasher.verify` raises :class:`HasherBusy` at once, which the service answers with 503
  and a ``Retry-After`` estimated from the recent hash times. A flood therefore costs its senders fast
  refusals instead of costing every legitimate login a longer wait.
* Every failed verification does the argon2 work of one hash with the configured parameters, measured as
  ``time_cost x memory_cost`` (KiB-passes over the memory): an unknown user is checked against a dummy
  hash made with those parameters, and a stored hash made with cheaper (outdated) parameters is topped up
  with a throw-away argon2 computation of the missing work, so neither the existence of the user nor the
  age of the hash shows in the response time. (A stored hash *costlier* than the configured parameters
  costs its own parameters: work cannot be taken back. It is replaced at the user's next login.)
* A stored hash made with other parameters verifies, and :meth:`PasswordHasher.needs_rehash` says so;
  the login route then stores a new hash (parameters are upgraded as users log in).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import os
import secrets
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final

import argon2
from argon2 import low_level
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from service.settings import DEFAULT_ARGON2_QUEUE, Argon2Params

__all__ = [
    "MAX_PASSWORD_CHARS",
    "MIN_PASSWORD_CHARS",
    "HasherBusy",
    "PasswordHasher",
    "Rank",
    "argon2_work",
    "argon2id_hasher",
]

MIN_PASSWORD_CHARS: Final = 8
MAX_PASSWORD_CHARS: Final = 1024
"""Longer inputs are refused before hashing (argon2 accepts any length; the cost should not grow)."""


class HasherBusy(Exception):
    """Every hashing slot is busy and the queue in front of them is full; ``retry_after`` in whole seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"password hashing queue full; retry after {retry_after} s")
        self.retry_after = retry_after


def argon2id_hasher(params: Argon2Params) -> argon2.PasswordHasher:
    """argon2-cffi's hasher with ``params``: argon2id, 32-byte hashes, 16-byte salts (the service's)."""
    return argon2.PasswordHasher(
        time_cost=params.time_cost,
        memory_cost=params.memory_cost,
        parallelism=params.parallelism,
        hash_len=32,
        salt_len=16,
        type=argon2.Type.ID,
    )


def argon2_work(time_cost: int, memory_cost: int) -> int:
    """The work of one argon2 computation, in KiB-passes: every pass fills and reads all of the memory."""
    return time_cost * memory_cost


Rank = int | Callable[[], int]
"""Where a check queues: lower first. A callable is asked again at every decision (its current value)."""


@dataclass(slots=True)
class _Waiter:
    """A check waiting for a slot."""

    rank: Rank
    arrival: int
    turn: asyncio.Future[None]

    def order(self) -> tuple[int, int]:
        """Current rank, then arrival: the smallest is served first."""
        return (self.rank() if callable(self.rank) else self.rank), self.arrival


def _lower_thread_priority() -> None:
    """Thread-pool initializer: nice 19 for this thread only (Linux schedules threads individually)."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError):  # a sandbox may forbid it; hashing still works
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


class PasswordHasher:
    """argon2id with the configured parameters; async API, blocking work in threads, a bounded queue."""

    def __init__(
        self,
        params: Argon2Params,
        *,
        max_concurrent: int | None = None,
        max_waiting: int = DEFAULT_ARGON2_QUEUE,
    ) -> None:
        self.params = params
        self._hasher = argon2id_hasher(params)
        self._work = argon2_work(params.time_cost, params.memory_cost)
        self.slots = max_concurrent or max(1, (os.cpu_count() or 2) - 1)
        self.max_waiting = max_waiting
        self._running = 0
        self._waiting: list[_Waiter] = []  # at most max_waiting (+ new-password hashes): scanned, not sorted
        self._arrivals = itertools.count()
        self._seconds = 0.0  # recent seconds per hash (moving average), for Retry-After
        self._pool = ThreadPoolExecutor(self.slots, "argon2", initializer=_lower_thread_priority)
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(24))

    async def hash(self, password: str) -> str:
        """A new argon2id hash of ``password`` (PHC string with parameters and salt).

        Waits for a slot however long the queue is, ahead of every password check: hashing a new password
        follows an admin's request or a login that just succeeded, never an anonymous request.
        """
        async with self._slot(-1, bounded=False):
            return await asyncio.get_running_loop().run_in_executor(self._pool, self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str, *, priority: Rank = 0) -> bool:
        """Whether ``password`` matches ``password_hash``; ``None`` (unknown user) costs the same, fails.

        Checks wait for a slot in order of ``priority`` (lower first), then of arrival. The login passes a
        callable returning the current count of unsuccessful attempts of its address, so a flood's early
        requests fall behind as their addresses keep failing. At most ``max_waiting`` wait: a check that
        finds the queue full takes the place of the waiter that would be served last if that one's
        ``priority`` is now higher (it raises :class:`HasherBusy`), or raises :class:`HasherBusy` itself,
        at once.
        """
        target = self._dummy_hash if password_hash is None else password_hash
        async with self._slot(priority, bounded=True):
            started = time.perf_counter()
            matches = await asyncio.get_running_loop().run_in_executor(
                self._pool, self._verify_sync, target, password
            )
            elapsed = time.perf_counter() - started
            self._seconds = elapsed if not self._seconds else 0.8 * self._seconds + 0.2 * elapsed
        return matches and password_hash is not None

    def check_room(self, priority: Rank = 0) -> None:
        """Raise :class:`HasherBusy` now if a :meth:`verify` with ``priority`` would be refused now.

        The login calls it before reading the user, so a flood the queue cannot take costs no database
        reads either. It reserves nothing: :meth:`verify` decides again when it is called.
        """
        if self._running < self.slots or len(self._waiting) < self.max_waiting:
            return
        rank = priority() if callable(priority) else priority
        last = max(self._waiting, key=_Waiter.order, default=None)
        if last is None or last.order()[0] <= rank:
            raise HasherBusy(self._retry_after())

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made with other parameters than the configured ones."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    def close(self) -> None:
        """Stop the worker threads (after the running hashes finish); the app calls it on shutdown."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    @contextlib.asynccontextmanager
    async def _slot(self, rank: Rank, *, bounded: bool) -> AsyncIterator[None]:
        """Hold a hashing slot for the block, waiting in the queue when every slot is busy."""
        if self._running < self.slots and not self._waiting:
            self._running += 1
        else:
            await self._wait(rank, bounded=bounded)
        try:
            yield
        finally:
            self._hand_over()

    async def _wait(self, rank: Rank, *, bounded: bool) -> None:
        """Wait until a finishing check hands its slot over; refuse or evict when the queue is full."""
        waiter = _Waiter(rank, next(self._arrivals), asyncio.get_running_loop().create_future())
        if bounded and len(self._waiting) >= self.max_waiting:
            last = max(self._waiting, key=_Waiter.order, default=None)
            if last is None or last.order()[0] <= waiter.order()[0]:
                raise HasherBusy(self._retry_after())
            self._waiting.remove(last)
            last.turn.set_exception(HasherBusy(self._retry_after()))
        self._waiting.append(waiter)
        try:
            await waiter.turn
        except asyncio.CancelledError:
            if waiter in self._waiting:
                self._waiting.remove(waiter)
            elif waiter.turn.done() and not waiter.turn.cancelled() and waiter.turn.exception() is None:
                self._hand_over()  # the slot was ours already: pass it on
            raise

    def _hand_over(self) -> None:
        """A slot is free: give it to the first waiter by current rank, or count it free."""
        while self._waiting:
            first = min(self._waiting, key=_Waiter.order)
            self._waiting.remove(first)
            if not first.turn.done():
                first.turn.set_result(None)
                return
        self._running -= 1

    def _retry_after(self) -> int:
        """Seconds until the checks queued now have run: queue length x recent hash time / slots."""
        seconds = (self._running + len(self._waiting)) * (self._seconds or 0.1) / self.slots
        return max(1, math.ceil(seconds))

    def _verify_sync(self, password_hash: str, password: str) -> bool:
        """Check the password; on failure, top the argon2 work up to that of one configured hash."""
        done = 0
        try:
            stored = argon2.extract_parameters(password_hash)
            low_level.verify_secret(password_hash.encode("ascii"), password.encode(), stored.type)
        except VerifyMismatchError:
            done = argon2_work(stored.time_cost, stored.memory_cost)
        except (VerificationError, InvalidHashError, UnicodeError):
            pass  # not a usable hash (or password): no argon2 work was done
        else:
            return True
        self._top_up(self._work - done)
        return False

    def _top_up(self, missing: int) -> None:
        """Throw-away argon2 work of ``missing`` KiB-passes (none if nothing is missing)."""
        if missing <= 0:
            return
        lanes = self.params.parallelism
        passes = self.params.time_cost if missing >= self.params.time_cost * 8 * lanes else 1
        low_level.hash_secret_raw(
            secret=b"top-up",
            salt=secrets.token_bytes(16),
            time_cost=passes,
            memory_cost=max(8 * lanes, math.ceil(missing / passes)),
            parallelism=lanes,
            hash_len=32,
            type=low_level.Type.ID,
        )
