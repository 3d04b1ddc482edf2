"""``GET /me`` per request in-process: the service, the minimal guard and JWTAuth called as ASGI apps.

    .venv/bin/python -m benchmarks.per_request                 # µs per request, interleaved batches
    valgrind --tool=callgrind .venv/bin/python -m benchmarks.per_request --callgrind

No server and no socket: each app is called with the same ``GET /me`` ASGI scope (a ``jwt-hs256``
access token the service issued), so what is measured is the Python per-request path alone, the part in
which the three apps differ; granian's share is the same for all three and is in the request-level
report (``docs/benchmarks.md``). The apps are built as ``tokenbench serve`` and :mod:`benchmarks.apps`
build them, from ``TOKENBENCH_*`` settings on a throw-away key directory.

The default mode times batches of requests, the apps taking turns, and prints the 10th percentile and
the median per app (the machine is shared: a batch is only ever slowed down by others, so the low
percentile is the steadier figure). ``--callgrind`` runs each app's batch once between two callgrind
counter dumps and prints instructions per request, which no other load on the machine changes. It also
prints what Litestar's per-request ``copy()`` of a route handler (done once per guard) costs.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import os
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from litestar import Litestar
from litestar.testing import AsyncTestClient

from benchmarks.subjects import AUDIENCE, ISSUER
from formats import FormatName
from formats.keys import generate_key_file

__all__ = ["main"]

APPS: Final = ("service", "minimal-guard", "jwtauth")


def _scope(token: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/me",
        "raw_path": b"/me",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"user-agent", b"per-request"),
            (b"authorization", f"Bearer {token}".encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


def _requester(app: Litestar, token: str) -> Callable[[], Coroutine[Any, Any, int]]:
    """A coroutine function doing one ``GET /me`` on ``app``; it returns the status code."""

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def request() -> int:
        status = 0

        async def send(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await app(_scope(token), receive, send)  # type: ignore[arg-type]
        return status

    return request


def _dump(label: str) -> None:
    """Ask callgrind to write its counters (and zero them); keep running until it has."""
    process = subprocess.Popen(
        ["callgrind_control", "--dump=" + label, str(os.getpid())], stdout=subprocess.DEVNULL
    )
    while process.poll() is None:
        sum(range(1000))  # guest code, so valgrind gets to read its command file


async def _run(batch: int, rounds: int, callgrind: bool) -> None:
    from benchmarks.apps import jwtauth_app, minimal_guard_app  # noqa: PLC0415 - after the environment
    from service.app import app_from_env  # noqa: PLC0415
    from service.auth.roles import Role  # noqa: PLC0415

    apps = {"service": app_from_env(), "minimal-guard": minimal_guard_app(), "jwtauth": jwtauth_app()}
    clients = [AsyncTestClient(app=app) for app in apps.values()]  # runs each app's lifespan
    for client in clients:
        await client.__aenter__()
    try:
        services = apps["service"].state.services
        token = services.sessions.issue_access("bench", Role.USER, now=datetime.now(UTC))
        requests = {name: _requester(app, token) for name, app in apps.items()}
        for name, request in requests.items():
            statuses = {await request() for _ in range(200)}  # warm-up, and every app answers 200
            if statuses != {200}:
                raise RuntimeError(f"{name}: GET /me answered {statuses}")
        if callgrind:
            for name, request in requests.items():
                _dump(f"before-{name}")
                _dump(f"empty-{name}")  # the dump's own cost, to subtract
                for _ in range(batch):
                    await request()
                _dump(f"{name}-{batch}")
            _print_instructions(batch)
            return
        per_request: dict[str, list[float]] = {name: [] for name in requests}
        for _ in range(rounds):
            for name, request in requests.items():
                started = time.perf_counter()
                for _ in range(batch):
                    await request()
                per_request[name].append((time.perf_counter() - started) / batch * 1e6)
        _print_times(per_request)
    finally:
        for client in clients:
            await client.__aexit__(None, None, None)


def _print_times(per_request: dict[str, list[float]]) -> None:
    lows = {name: statistics.quantiles(times, n=10)[0] for name, times in per_request.items()}
    print(f"{'app':14} {'p10 µs':>8} {'median µs':>10} {'p10 x minimal guard':>20}")
    for name, times in per_request.items():
        print(
            f"{name:14} {lows[name]:8.1f} {statistics.median(times):10.1f} "
            f"{lows[name] / lows['minimal-guard']:19.2f}x"
        )


def _print_instructions(batch: int) -> None:
    """Instructions per request from the dumps (callgrind's default file names, in the working directory)."""
    counts: dict[str, int] = {}
    for path in Path.cwd().glob(f"callgrind.out.{os.getpid()}.*"):
        label = summary = None
        for line in path.read_text(errors="replace").splitlines()[:40]:
            if line.startswith("desc: Trigger: dump "):
                label = line.removeprefix("desc: Trigger: dump ")
            elif line.startswith("summary: "):
                summary = int(line.removeprefix("summary: "))
        if label is not None and summary is not None:
            counts[label] = summary
        path.unlink()
    if not counts:
        print("no callgrind dumps found: run under valgrind --tool=callgrind with its default output file")
        return
    guard = (counts[f"minimal-guard-{batch}"] - counts["empty-minimal-guard"]) / batch
    print(f"{'app':14} {'instructions/request':>21} {'x minimal guard':>16}")
    for name in APPS:
        per_request = (counts[f"{name}-{batch}"] - counts[f"empty-{name}"]) / batch
        print(f"{name:14} {per_request:21,.0f} {per_request / guard:15.2f}x")


def _guard_copy_us() -> float:
    """µs of one ``copy()`` of the minimal guard's ``/me`` handler, as Litestar does per guard call."""
    from benchmarks.apps import minimal_guard_app  # noqa: PLC0415

    handler = minimal_guard_app().route_handler_method_map["/me"]["GET"]
    number = 5000
    return min(timeit.repeat(lambda: copy.copy(handler), number=number, repeat=7)) / number * 1e6


def main(argv: list[str] | None = None) -> int:
    """Set up keys and settings in a temporary directory, then measure."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.per_request", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--batch", type=int, default=300, help="requests per batch (default 300)")
    parser.add_argument("--rounds", type=int, default=60, help="batches per app (default 60)")
    parser.add_argument("--callgrind", action="store_true", help="instructions per request under callgrind")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="per-request-") as directory:
        work = Path(directory)
        generate_key_file(work / "keys", FormatName.JWT_HS256)
        os.environ.update(
            TOKENBENCH_ENV="development",
            TOKENBENCH_FORMAT=FormatName.JWT_HS256.value,
            TOKENBENCH_KEYS_DIR=str(work / "keys"),
            TOKENBENCH_DATABASE_URL=f"sqlite+aiosqlite:///{work / 'bench.db'}",
            TOKENBENCH_COOKIE_SECURE="false",
            TOKENBENCH_ISSUER=ISSUER,
            TOKENBENCH_AUDIENCE=AUDIENCE,
        )
        batch = args.batch if not args.callgrind else max(args.batch, 2000)
        asyncio.run(_run(batch, args.rounds, args.callgrind))
        if not args.callgrind:
            copy_us = _guard_copy_us()
            print(f"Litestar's copy() of a route handler (once per guard per request): {copy_us:.1f} µs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
