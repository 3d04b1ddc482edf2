"""argon2id hashing: parameters, the dummy hash for unknown users, rehash on parameter change, and
hashing off the event loop."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from dataclasses import replace

import pytest
from argon2 import extract_parameters, low_level

from service.passwords import HasherBusy, PasswordHasher
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


# --- equal work for every failed login -------------------------------------------------------------


@pytest.fixture
def argon2_work(monkeypatch) -> list[int]:
    """The work (KiB-passes, time_cost x memory_cost) of every argon2 computation from now on.

    Wraps argon2-cffi's low-level functions wherever a module holds them (argon2's own PasswordHasher
    and the service's hasher alike), so whichever way a check is computed, it is counted.
    """
    done: list[int] = []
    real_verify = low_level.verify_secret
    real_raw, real_encoded = low_level.hash_secret_raw, low_level.hash_secret

    def verify_secret(encoded: bytes, secret: bytes, kind: object) -> object:
        parameters = extract_parameters(encoded.decode())
        done.append(parameters.time_cost * parameters.memory_cost)
        return real_verify(encoded, secret, kind)

    def counted(real):
        def compute(*args, **kwargs):
            done.append(kwargs["time_cost"] * kwargs["memory_cost"])
            return real(*args, **kwargs)

        return compute

    wrappers = (
        (real_verify, verify_secret),
        (real_raw, counted(real_raw)),
        (real_encoded, counted(real_encoded)),
    )
    for module in list(sys.modules.values()):
        for name, value in list(vars(module).items()) if module else ():
            for real, wrapper in wrappers:
                if value is real:
                    monkeypatch.setattr(module, name, wrapper)
    return done


def test_every_failed_verification_does_the_work_of_one_configured_hash(argon2_work) -> None:
    current = Argon2Params(time_cost=3, memory_cost=64, parallelism=1)
    hasher = PasswordHasher(current, max_concurrent=1)
    outdated = asyncio.run(PasswordHasher(Argon2Params(1, 32, 1)).hash("pw-123456"))
    up_to_date = asyncio.run(hasher.hash("pw-123456"))
    work = {}
    for label, stored in (
        ("unknown user", None),
        ("hash with the configured parameters", up_to_date),
        ("hash with outdated, cheaper parameters", outdated),
        ("a stored value that is no argon2 hash", "not a hash"),
    ):
        argon2_work.clear()
        assert not asyncio.run(hasher.verify(stored, "wrong-password"))
        work[label] = sum(argon2_work)

    target = 3 * 64
    assert all(target <= done < target + 3 * 4 for done in work.values()), work


def test_a_correct_password_on_an_outdated_hash_is_not_topped_up(argon2_work) -> None:
    hasher = PasswordHasher(Argon2Params(time_cost=3, memory_cost=64, parallelism=1), max_concurrent=1)
    outdated = asyncio.run(PasswordHasher(Argon2Params(1, 32, 1)).hash("pw-123456"))
    argon2_work.clear()
    assert asyncio.run(hasher.verify(outdated, "pw-123456"))
    assert argon2_work == [32]  # the success is followed by a rehash, not by throw-away work


# --- the bounded queue -----------------------------------------------------------------------------


def run_checks(hasher: PasswordHasher, priorities: list[int]) -> tuple[list[int], list[object]]:
    """Start one failing check per priority at once (the first takes the one slot); return the order in
    which they finished and each one's result (False, or the HasherBusy it raised)."""
    finished: list[int] = []

    async def check(index: int, priority: int) -> bool:
        try:
            return await hasher.verify(None, "guess", priority=priority)
        finally:
            finished.append(index)

    async def main() -> list[object]:
        return await asyncio.gather(*(check(i, p) for i, p in enumerate(priorities)), return_exceptions=True)

    results = asyncio.run(main())
    return [i for i in finished if results[i] is False], results


def test_past_the_queue_bound_a_check_is_refused_at_once() -> None:
    hasher = PasswordHasher(CHEAP, max_concurrent=1, max_waiting=2)
    order, results = run_checks(hasher, [1, 1, 1, 1, 1])
    assert order == [0, 1, 2]
    assert all(isinstance(r, HasherBusy) and r.retry_after >= 1 for r in results[3:])


def test_checks_from_addresses_with_fewer_failures_go_first() -> None:
    hasher = PasswordHasher(CHEAP, max_concurrent=1, max_waiting=3)
    order, _ = run_checks(hasher, [7, 7, 7, 1])
    assert order == [0, 3, 1, 2]


def test_a_full_queue_gives_the_place_of_the_worst_waiter_to_a_better_newcomer() -> None:
    hasher = PasswordHasher(CHEAP, max_concurrent=1, max_waiting=2)
    order, results = run_checks(hasher, [9, 5, 9, 1, 5])
    assert order == [0, 3, 1]  # 2 (priority 9) was evicted by 3; 4 found 1 and 3, no worse, and left
    assert isinstance(results[2], HasherBusy)
    assert isinstance(results[4], HasherBusy)


def test_hashing_a_new_password_is_never_refused_and_goes_first() -> None:
    hasher = PasswordHasher(CHEAP, max_concurrent=1, max_waiting=0)

    async def main() -> list[object]:
        return await asyncio.gather(
            hasher.verify(None, "guess"),
            hasher.verify(None, "guess"),
            hasher.hash("new password"),
            return_exceptions=True,
        )

    first, second, new_hash = asyncio.run(main())
    assert first is False
    assert isinstance(second, HasherBusy)
    assert isinstance(new_hash, str)
    assert asyncio.run(hasher.verify(new_hash, "new password"))


def test_a_cancelled_waiter_leaves_the_queue_and_its_slot_to_others() -> None:
    hasher = PasswordHasher(CHEAP, max_concurrent=1, max_waiting=1)

    async def main() -> list[object]:
        running = asyncio.create_task(hasher.verify(None, "guess"))
        waiting = asyncio.create_task(hasher.verify(None, "guess"))
        await asyncio.sleep(0)
        waiting.cancel()
        after = asyncio.create_task(hasher.verify(None, "guess"))  # the queue has room again
        return await asyncio.gather(running, waiting, after, return_exceptions=True)

    running, waiting, after = asyncio.run(main())
    assert running is False
    assert isinstance(waiting, asyncio.CancelledError)
    assert after is False
    assert asyncio.run(asyncio.wait_for(hasher.verify(None, "guess"), 10)) is False  # the slot is free


def test_a_waiters_rank_is_asked_again_when_a_slot_frees() -> None:
    """A flood's first request from an address ranks like anyone's; once its address has kept failing, a
    newer request from an address that has not goes first."""
    hasher = PasswordHasher(CHEAP, max_concurrent=1, max_waiting=3)
    failures = {"flooding": 1, "user": 1}
    finished: list[str] = []

    async def check(name: str) -> None:
        await hasher.verify(None, "guess", priority=lambda: failures[name])
        finished.append(name)

    async def main() -> None:
        running = asyncio.create_task(check("flooding"))
        early = asyncio.create_task(check("flooding"))
        await asyncio.sleep(0)
        failures["flooding"] = 9  # the flood's address has failed on since
        user = asyncio.create_task(check("user"))
        await asyncio.gather(running, early, user)

    asyncio.run(main())
    assert finished == ["flooding", "user", "flooding"]


def test_check_room_refuses_exactly_what_verify_would_refuse_now() -> None:
    hasher = PasswordHasher(CHEAP, max_concurrent=1, max_waiting=1)

    async def main() -> list[object]:
        hasher.check_room(5)  # a free slot
        running = asyncio.create_task(hasher.verify(None, "guess", priority=5))
        await asyncio.sleep(0)
        hasher.check_room(5)  # room in the queue
        waiting = asyncio.create_task(hasher.verify(None, "guess", priority=5))
        await asyncio.sleep(0)
        outcomes: list[object] = []
        for rank in (5, 9, 1):
            try:
                hasher.check_room(rank)
                outcomes.append("room")
            except HasherBusy as busy:
                outcomes.append(busy)
        await asyncio.gather(running, waiting)
        return outcomes

    same, worse, better = asyncio.run(main())
    assert isinstance(same, HasherBusy)
    assert isinstance(worse, HasherBusy)
    assert better == "room"  # it would take the place of the waiter ranked 5
