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
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg  # type: ignore[import-untyped]

from benchmarks import loadgen
from benchmarks.loadgen import HttpRequest, LoadSpec
from benchmarks.run import USERNAME, _bench_env, _login, _login_request, _service_argv
from benchmarks.servers import HOST, free_port, serve
from formats import FormatName
from formats.keys import generate_key_file

POSTGRES = os.environ.get(
    "TOKENBENCH_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
REDIS = os.environ.get("TOKENBENCH_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
CHAINS = (1, 8, 32)
REFRESH = HttpRequest("POST", "/auth/refresh", (("X-Requested-With", "bench"),), b"")


@dataclass(frozen=True, slots=True)
class Row:
    store: str
    chains: int
    requests: int
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_us: float


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


def measure(store: str, env: dict[str, str], workdir: Path, fmt: FormatName, seconds: float) -> list[Row]:
    password = secrets.token_urlsafe(18)
    subprocess.run(
        [sys.executable, "-m", "service.cli", "users", "create", "--username", USERNAME, "--password-stdin"],
        input=password + "\n",
        text=True,
        env=env,
        check=True,
        capture_output=True,
    )
    login = _login_request(password)
    port = free_port()
    rows = []
    with serve(
        _service_argv(fmt, port), env=env, port=port, log=workdir / f"serve-{store}.log", ready_path="/health"
    ) as server:
        for chains in CHAINS:
            with ThreadPoolExecutor(8) as pool:
                cookies = tuple(s.refresh for s in pool.map(lambda _: _login(port, login), range(chains)))
            spec = LoadSpec(HOST, port, REFRESH, chains, seconds, "refresh-chain", cookies)
            before = server.cpu_seconds()
            result = loadgen.run_load(spec, tool="python")
            cpu = server.cpu_seconds() - before
            row = Row(
                store,
                chains,
                result.requests,
                result.errors,
                result.rps,
                result.p50_ms,
                result.p99_ms,
                cpu / max(result.requests, 1) * 1e6,
            )
            print(
                f"{store:<18} {chains:>3} chains: {row.rps:7,.0f} req/s  p50 {row.p50_ms:7.2f} ms  "
                f"p99 {row.p99_ms:8.2f} ms  {row.cpu_us:7,.0f} µs CPU/refresh  "
                f"errors {row.errors}/{row.requests}",
                flush=True,
            )
            rows.append(row)
    return rows


def verdicts(rows: list[Row]) -> list[str]:
    lines = []
    by = {(r.store, r.chains): r for r in rows}
    for store in dict.fromkeys(r.store for r in rows):
        top, one = by.get((store, max(CHAINS))), by.get((store, 1))
        if top is None or one is None:
            continue
        tail = top.p99_ms / top.p50_ms
        cpu = max(by[(store, c)].cpu_us for c in CHAINS if c > 1) / one.cpu_us
        lines.append(
            f"{store}: p99/p50 at {top.chains} chains {tail:.1f}x "
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
    parser = argparse.ArgumentParser(prog="python -m benchmarks.refresh_stores", description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--format", default="jwt-hs256", choices=[f.value for f in FormatName])
    parser.add_argument("--stores", default="sqlite,postgresql,postgresql+redis")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    fmt = FormatName(args.format)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="tokenbench-refresh-") as tmp:
        workdir = Path(tmp)
        generate_key_file(workdir / "keys", fmt)
        base = _bench_env(workdir)
        for store in args.stores.split(","):
            if store.startswith("postgresql") and not reachable(POSTGRES, 5432):
                print(f"{store}: skipped, {POSTGRES} is unreachable", flush=True)
                continue
            if store.endswith("redis") and not reachable(REDIS, 6379):
                print(f"{store}: skipped, {REDIS} is unreachable", flush=True)
                continue
            if store == "sqlite":
                rows += measure(store, base, workdir, fmt, args.seconds)
                continue
            with postgres_database() as database:
                env = {**base, "TOKENBENCH_DATABASE_URL": database}
                if store.endswith("redis"):
                    env["TOKENBENCH_REDIS_URL"] = REDIS
                rows += measure(store, env, workdir, fmt, args.seconds)
    for line in verdicts(rows):
        print(line)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
