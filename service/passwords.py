"""argon2id password hashing, off the event loop.

* Hashing and verifying run in the hasher's own worker threads so a login never stalls the
  requests being verified on the loop. A semaphore lets at most ``cpu_count - 1`` hashes (at least one)
  run at once: with one argon2 lane each (the default parallelism), one core always stays free for the
  event loop, so a login flood queues logins instead of starving token verification (and each hash
  holds ``memory_cost`` KiB, so memory stays bounded too). On Linux the hashing threads also run at the
  lowest CPU priority (nice 19), so whatever else shares the machine wins the core first.
* :meth:`PasswordHasher.verify` for an unknown user checks the password against a dummy hash made with
  the same parameters: the same work, so the response time does not tell whether the user exists.
* A stored hash made with other parameters verifies, and :meth:`PasswordHasher.needs_rehash` says so;
  the login route then stores a new hash (parameters are upgraded as users log in).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Final

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from service.settings import Argon2Params

__all__ = ["MAX_PASSWORD_CHARS", "MIN_PASSWORD_CHARS", "PasswordHasher"]

MIN_PASSWORD_CHARS: Final = 8
MAX_PASSWORD_CHARS: Final = 1024
"""Longer inputs are refused before hashing (argon2 accepts any length; the cost should not grow)."""


def _lower_thread_priority() -> None:
    """Thread-pool initializer: nice 19 for this thread only (Linux schedules threads individually)."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError):  # a sandbox may forbid it; hashing still works
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


class PasswordHasher:
    """argon2id with the configured parameters; async API, blocking work in threads."""

    def __init__(self, params: Argon2Params, *, max_concurrent: int | None = None) -> None:
        self.params = params
        self._hasher = argon2.PasswordHasher(
            time_cost=params.time_cost,
            memory_cost=params.memory_cost,
            parallelism=params.parallelism,
            hash_len=32,
            salt_len=16,
            type=argon2.Type.ID,
        )
        slots = max_concurrent or max(1, (os.cpu_count() or 2) - 1)
        self._slots = asyncio.Semaphore(slots)
        self._pool = ThreadPoolExecutor(slots, "argon2", initializer=_lower_thread_priority)
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(24))

    async def hash(self, password: str) -> str:
        """A new argon2id hash of ``password`` (PHC string with parameters and salt)."""
        async with self._slots:
            return await asyncio.get_running_loop().run_in_executor(self._pool, self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches ``password_hash``; ``None`` (unknown user) costs the same, fails."""
        target = self._dummy_hash if password_hash is None else password_hash
        async with self._slots:
            matches = await asyncio.get_running_loop().run_in_executor(
                self._pool, self._verify_sync, target, password
            )
        return matches and password_hash is not None

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made with other parameters than the configured ones."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    def close(self) -> None:
        """Stop the worker threads (after the running hashes finish); the app calls it on shutdown."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _verify_sync(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
