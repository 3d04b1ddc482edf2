"""``POST /auth/refresh`` under load on every store: 1, 8 and 32 concurrent refresh chains.

    .venv/bin/python -m benchmarks.refresh_stores [--seconds 5] [--format jwt-hs256] [--json out.json]

Stores: SQLite, PostgreSQL, PostgreSQL + Redis; the ones that are unreachable are skipped and said so.
Each row is one ``tokenbench serve`` process (one worker, one format) and one closed-loop window of the
Python load client (each connection follows its own refresh chain: every request presents the cookie the
previous answer set). Reported: req/s, p50/p99, server CPU per refresh, and the targets of issue 8 as
ratios: p99 within 10x p50 at 32 chains, CPU per refresh under load within 2x the one-chain figure,
PostgreSQL + Redis req/s at 32 chains at least SQLite's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg  # type: ignore[import-untyped]
import msgspec

from benchmarks import loadgen
from benchmarks.http_level import USERNAME, log_in, login_request
from benchmarks.loadgen import HttpRequest, LoadSpec
from benchmarks.results import STORE_LOAD, HttpRow
from benchmarks.servers import HOST, create_user, serve_service, service_env
from formats import FormatName
from formats.keys import generate_key_file

POSTGRES = os.environ.get(
    "TOKENBENCH_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
REDIS = os.environ.get("TOKENBENCH_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
CHAINS = (1, 8, 32)
STORES = ("sqlite", "postgresql", "postgresql+redis")
REFRESH = HttpRequest("POST", "/auth/refresh", (("X-Requested-With", "bench"),), b"")


def reachable(url: str, port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or HOST, parts.port or port), timeout=1):
            return True
    except OSError:
        return False


@contextmanager
def postgres_database() -> Iterator[str]:
    admin = POSTGRES.replace("postgresql+asyncpg://", "postgresql://")
    name = f"tokenbench_bench_{secrets.token_hex(4)}"

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def measure(
    store: str, env: dict[str, str], workdir: Path, fmt: FormatName, seconds: float, chains: tuple[int, ...]
) -> list[HttpRow]:
    """One ``tokenbench serve`` on ``env``'s store; one refresh-chain window per entry of ``chains``."""
    password = secrets.token_urlsafe(18)
    create_user(env, USERNAME, password)
    login = login_request(password)
    rows = []
    log = workdir / f"serve-refresh-{store}.log"
    with serve_service(env, log, fmt=fmt) as server:
        port = server.port
        for count in chains:
            with ThreadPoolExecutor(8) as pool:
                cookies = tuple(s.refresh for s in pool.map(lambda _: log_in(port, login), range(count)))
            spec = LoadSpec(HOST, port, REFRESH, count, seconds, "refresh-chain", cookies)
            before = server.cpu_seconds()
            result = loadgen.run_load(spec, tool="python")
            cpu = server.cpu_seconds() - before
            rows.append(
                HttpRow(
                    app="service",
                    format=fmt.value,
                    route="refresh",
                    request="POST /auth/refresh",
                    load=f"{STORE_LOAD}{store}",
                    tool=result.tool,
                    connections=count,
                    windows=1,
                    duration_s=result.duration_s,
                    requests=result.requests,
                    errors=result.errors,
                    rps=result.rps,
                    p50_ms=result.p50_ms,
                    p99_ms=result.p99_ms,
                    cpu_us=cpu / max(result.requests, 1) * 1e6,
                    statuses=result.statuses,
                )
            )
    return rows


def store_rows(
    workdir: Path,
    fmt: FormatName,
    seconds: float,
    *,
    stores: tuple[str, ...] = STORES,
    chains: tuple[int, ...] = CHAINS,
) -> tuple[list[HttpRow], list[str]]:
    """Rows for every reachable store, and one line per store skipped (and why)."""
    rows: list[HttpRow] = []
    skipped: list[str] = []
    for store in stores:
        if store.startswith("postgresql") and not reachable(POSTGRES, 5432):
            skipped.append(f"{store}: skipped, {POSTGRES} is unreachable")
            continue
        if store.endswith("redis") and not reachable(REDIS, 6379):
            skipped.append(f"{store}: skipped, {REDIS} is unreachable")
            continue
        if store == "sqlite":  # a database file of its own: the run's main one already has the user
            env = service_env(workdir, database="refresh-sqlite.db")
            rows += measure(store, env, workdir, fmt, seconds, chains)
            continue
        with postgres_database() as database:
            env = service_env(workdir, database=database)
            if store.endswith("redis"):
                env["TOKENBENCH_REDIS_URL"] = REDIS
            rows += measure(store, env, workdir, fmt, seconds, chains)
    return rows, skipped


def store_of(row: HttpRow) -> str:
    """The store of a row :func:`store_rows` made."""
    return row.load.removeprefix(STORE_LOAD)


def verdicts(rows: list[HttpRow]) -> list[str]:
    """The three targets of the refresh-under-load issue, as one line each."""
    lines = []
    by = {(store_of(r), r.connections): r for r in rows}
    for store in dict.fromkeys(store_of(r) for r in rows):
        top, one = by.get((store, max(CHAINS))), by.get((store, 1))
        if top is None or one is None:
            continue
        tail = top.p99_ms / top.p50_ms
        cpu = max(by[(store, c)].cpu_us for c in CHAINS if c > 1) / one.cpu_us
        lines.append(
            f"{store}: p99/p50 at {top.connections} chains {tail:.1f}x "
            f"({'ok' if tail <= 10 else 'MISSES'} <= 10x); "
            f"CPU per refresh under load / one chain {cpu:.2f}x ({'ok' if cpu <= 2 else 'MISSES'} <= 2x)"
        )
    sqlite, both = by.get(("sqlite", max(CHAINS))), by.get(("postgresql+redis", max(CHAINS)))
    if sqlite and both:
        ratio = both.rps / sqlite.rps
        lines.append(
            f"postgresql+redis / sqlite req/s at {max(CHAINS)} chains: {ratio:.2f}x "
            f"({'ok' if ratio >= 1 else 'MISSES'} >= 1x)"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    """Measure and print; ``--json`` also writes the rows."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.refresh_stores", description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--format", default="jwt-hs256", choices=[f.value for f in FormatName])
    parser.add_argument("--stores", default=",".join(STORES))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    fmt = FormatName(args.format)
    with tempfile.TemporaryDirectory(prefix="tokenbench-refresh-") as tmp:
        workdir = Path(tmp)
        generate_key_file(workdir / "keys", fmt)
        rows, skipped = store_rows(workdir, fmt, args.seconds, stores=tuple(args.stores.split(",")))
    for line in skipped:
        print(line)
    for row in rows:
        print(
            f"{store_of(row):<18} {row.connections:>3} chains: {row.rps:7,.0f} req/s  "
            f"p50 {row.p50_ms:7.2f} ms  p99 {row.p99_ms:8.2f} ms  {row.cpu_us:7,.0f} µs CPU/refresh  "
            f"errors {row.errors}/{row.requests}"
        )
    for line in verdicts(rows):
        print(line)
    if args.json:
        args.json.write_bytes(msgspec.json.encode(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
