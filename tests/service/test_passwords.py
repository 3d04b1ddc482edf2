"""argon2id hashing: parameters, the dummy hash for unknown users, rehash on parameter change, and
hashing off the event loop."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from dataclasses import replace

import pytest

from service.passwords import PasswordHasher
from service.settings import Argon2Params

CHEAP = Argon2Params(time_cost=1, memory_cost=8, parallelism=1)


def test_hashes_are_argon2id_with_the_configured_parameters() -> None:
    hasher = PasswordHasher(CHEAP)
    password_hash = asyncio.run(hasher.hash("correct horse"))
    assert password_hash.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert asyncio.run(hasher.verify(password_hash, "correct horse"))
    assert not asyncio.run(hasher.verify(password_hash, "wrong horse"))
    assert not asyncio.run(hasher.verify("not a hash", "correct horse"))


def test_an_unknown_user_costs_one_verification_with_the_same_parameters(monkeypatch) -> None:
    hasher = PasswordHasher(CHEAP)
    known = asyncio.run(hasher.hash("correct horse"))
    verified: list[str] = []
    real = hasher._verify_sync

    def spy(password_hash: str, password: str) -> bool:
        verified.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(hasher, "_verify_sync", spy)

    assert not asyncio.run(hasher.verify(None, "correct horse"))
    assert not asyncio.run(hasher.verify(known, "wrong horse"))

    unknown_params, known_params = (h.split("$")[3] for h in verified)
    assert unknown_params == known_params == "m=8,t=1,p=1"


def test_a_hash_with_other_parameters_needs_a_rehash() -> None:
    old = asyncio.run(PasswordHasher(replace(CHEAP, time_cost=2)).hash("pw-123456"))
    hasher = PasswordHasher(CHEAP)
    assert hasher.needs_rehash(old)
    assert asyncio.run(hasher.verify(old, "pw-123456"))
    assert not hasher.needs_rehash(asyncio.run(hasher.hash("pw-123456")))


def test_login_rehashes_a_password_stored_with_old_parameters(api) -> None:
    old = PasswordHasher(replace(CHEAP, time_cost=2))

    async def store_old_hash() -> None:
        await api.services.stores.users.set_password_hash("alice", await old.hash("alice-password-1"))

    api.run(store_old_hash)
    api.login_as("alice")
    record = api.run(lambda: api.services.stores.users.get("alice"))
    assert record.password_hash.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    api.login_as("alice")  # the new hash verifies


def test_hashing_runs_off_the_event_loop() -> None:
    hasher = PasswordHasher(Argon2Params(time_cost=3, memory_cost=32768, parallelism=1))

    async def main() -> int:
        ticks = 0
        task = asyncio.create_task(hasher.hash("correct horse"))
        while not task.done():
            ticks += 1
            await asyncio.sleep(0.001)
        await task
        return ticks

    assert asyncio.run(main()) >= 5


@pytest.mark.skipif(sys.platform != "linux", reason="thread priorities are a Linux feature")
def test_hashing_threads_run_at_the_lowest_cpu_priority() -> None:
    hasher = PasswordHasher(CHEAP, max_concurrent=1)

    async def priority_of_a_hashing_thread() -> int:
        await hasher.hash("correct horse battery")
        return await asyncio.get_running_loop().run_in_executor(
            hasher._pool, lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        )

    assert asyncio.run(priority_of_a_hashing_thread()) == 19
