"""The login rows measure logins, not the argon2 queue's refusals.

A load window ends with up to ``connections`` logins still in the server's argon2 queue, and the next
window (or the login load beside ``GET /me``) starts its own at once. With the service's default queue
bound (8) the second window's clients were refused (503 ``login_busy``) in 2 ms and retried at once:
99 % of the committed report's login requests were errors, and its login table was nonsense. The
benchmarked service therefore gets a queue with room for two windows' worth of clients.
"""

from __future__ import annotations

from benchmarks.http_level import ARGON2_QUEUE
from benchmarks.plan import PLANS
from service.settings import DEFAULT_ARGON2_QUEUE, MAX_ARGON2_QUEUE


def test_the_benchmarked_queue_holds_two_windows_of_logins() -> None:
    most = max(max(plan.connections, plan.login_clients) for plan in PLANS.values())
    assert ARGON2_QUEUE >= 2 * most > DEFAULT_ARGON2_QUEUE
    assert ARGON2_QUEUE <= MAX_ARGON2_QUEUE  # a setting the service accepts
