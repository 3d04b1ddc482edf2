"""``tokenbench bench``: run the three measurements in one go and write the report.

1. Token level: ``benchmarks/bench_tokens.py`` under pytest-benchmark in its own process (JSON out).
2. Request level: the service under ``tokenbench serve`` (one granian worker), once per format, on a
   throw-away SQLite file and key directory, loaded over loopback by :mod:`benchmarks.loadgen` for a
   bounded window per route; then the comparison apps (:mod:`benchmarks.apps`) served the same way.
   Server CPU comes from ``/proc`` before and after each window (:mod:`benchmarks.procstat`).
3. Sizes: the access and refresh tokens ``POST /auth/login`` returned, per format.

Everything that decides how long and how hard is a :class:`Plan`: ``full`` (the report in
``docs/benchmarks.md``), ``quick`` (under two minutes, for CI and a first look) and ``smoke`` (the
shortest run that still exercises every step; the test suite uses it).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
import platform
import secrets
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Final, TextIO

import argon2
import msgspec

from benchmarks import loadgen
from benchmarks.charts import write_charts
from benchmarks.loadgen import HttpRequest, LoadResult, LoadSpec, Scenario, Tool
from benchmarks.procstat import MachineMeter, MachineShare
from benchmarks.report import busy_before, render_report
from benchmarks.results import HttpRow, Meta, Results, SizeRow, TokenRow, write_results
from benchmarks.servers import HOST, RunningServer, free_port, http_call, serve
from benchmarks.sizes import check_issued, size_row, token_sizes
from benchmarks.subjects import AUDIENCE, ISSUER
from formats import FormatName
from formats.keys import generate_key_file
from service.auth.credentials import PLAIN_REFRESH_COOKIE
from service.settings import Settings

__all__ = ["PLANS", "Plan", "Progress", "run_bench"]

BENCH_FILE: Final = Path(__file__).with_name("bench_tokens.py")
PROJECT_ROOT: Final = Path(__file__).resolve().parents[1]

SERVICE_OPEN_PATH: Final = "/health/live"
"""The service's open route: answers without authentication and without asking a store."""
APPS_OPEN_PATH: Final = "/open"
LOGIN_LOAD_FORMAT: Final = FormatName.JWT_HS256
"""GET /me under login load is measured on the cheapest verify, where a stalled event loop shows most."""
USERNAME: Final = "bench"
REFRESH_STORE_FORMAT: Final = FormatName.JWT_HS256
"""The format of the per-store refresh rows: the cheapest token work, so the store's share shows most."""

LIBRARIES: Final = (
    "litestar",
    "granian",
    "msgspec",
    "PyJWT",
    "pyseto",
    "cryptography",
    "PyNaCl",
    "pycryptodomex",
    "argon2-cffi",
    "SQLAlchemy",
    "joserfc",
    "paseto",
    "pytest-benchmark",
)


@dataclass(frozen=True, slots=True)
class Plan:
    """How long and how hard a run measures."""

    mode: str
    token_max_time: float  # seconds per token-level benchmark
    token_min_rounds: int
    window_s: float  # one load window
    warmup_requests: int  # sequential requests before a GET window (not measured)
    connections: int
    login_clients: int = 8
    loadgen: Tool | None = None  # None: wrk when installed, else the Python client
    repeats: int = 1  # windows per row; the row holds their medians
    token_passes: int = 1  # runs of the token-level suite; each row is the median pass


PLANS: Final = {
    "full": Plan(
        "full",
        token_max_time=1.0,
        token_min_rounds=20,
        window_s=5,
        warmup_requests=500,
        connections=8,
        repeats=3,
        token_passes=3,
    ),
    "quick": Plan(
        "quick", token_max_time=0.1, token_min_rounds=5, window_s=2, warmup_requests=200, connections=8
    ),
    # Every step with the least time in each: the Python client, whose windows can be shorter than wrk's 1 s.
    "smoke": Plan(
        "smoke",
        token_max_time=0.01,
        token_min_rounds=3,
        window_s=0.5,
        warmup_requests=30,
        connections=4,
        loadgen="python",
    ),
}


class Progress:
    """One line per step on a stream: ``[ 3/27  0:41] what … result``."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        self.started = time.monotonic()

    @contextlib.contextmanager
    def step(self, label: str) -> Iterator[Callable[[str], None]]:
        """Announce ``label``; the block may call the yielded function with a one-line result."""
        self.done += 1
        elapsed = int(time.monotonic() - self.started)
        counter = f"[{self.done:>2}/{self.total}  {elapsed // 60}:{elapsed % 60:02d}]"
        print(f"{counter} {label} …", file=self.stream, flush=True)
        outcome: list[str] = []
        yield outcome.append
        if outcome:
            print(f"{' ' * len(counter)} → {outcome[-1]}", file=self.stream, flush=True)


def _steps() -> int:
    formats = len(FormatName)
    # token level; user; per format: service start, open + me, refresh, login, guard start, open + me;
    # login load; JWTAuth start, open + me; refresh per store; report
    # + the machine before the run, and the argon2id check alone
    return 1 + 1 + formats * 6 + 1 + 2 + 3 + 1 + 2


# --- token level ----------------------------------------------------------------------------------------


def _token_pass(plan: Plan, workdir: Path, index: int) -> list[TokenRow]:
    out = workdir / f"token-benchmarks-{index}.json"
    log = workdir / f"token-benchmarks-{index}.log"
    argv = [
        sys.executable,
        "-m",
        "pytest",
        str(BENCH_FILE),
        "-v",
        "-p",
        "no:cacheprovider",
        "--benchmark-enable",
        f"--benchmark-max-time={plan.token_max_time}",
        f"--benchmark-min-rounds={plan.token_min_rounds}",
        f"--benchmark-json={out}",
        "-W",
        "ignore::pytest_benchmark.logger.PytestBenchmarkWarning",
    ]
    cwd = PROJECT_ROOT if (PROJECT_ROOT / "pyproject.toml").exists() else None
    with log.open("w") as handle:
        completed = subprocess.run(argv, cwd=cwd, stdout=handle, stderr=subprocess.STDOUT, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"token-level benchmarks failed:\n{log.read_text()[-3000:]}")
    return [
        TokenRow(
            format=b["extra_info"]["format"],
            op=b["extra_info"]["op"],
            impl=b["extra_info"]["impl"],
            kind=b["extra_info"]["kind"],
            case=b["extra_info"]["case"],
            median_us=b["stats"]["median"] * 1e6,
            iqr_us=b["stats"]["iqr"] * 1e6,
            mean_us=b["stats"]["mean"] * 1e6,
            min_us=b["stats"]["min"] * 1e6,
            rounds=b["stats"]["rounds"],
        )
        for b in json.loads(out.read_text())["benchmarks"]
    ]


def _median_row(rows: list[TokenRow]) -> TokenRow:
    """One row from the passes: the median pass (by median), with every pass's rounds counted."""
    middle = sorted(rows, key=lambda r: r.median_us)[(len(rows) - 1) // 2]
    return msgspec.structs.replace(
        middle, min_us=min(r.min_us for r in rows), rounds=sum(r.rounds for r in rows)
    )


def run_token_level(plan: Plan, workdir: Path, progress: Progress) -> tuple[list[TokenRow], str]:
    """Run the pytest-benchmark suite ``token_passes`` times in its own process; rows and a method line."""
    with progress.step("token level: pytest-benchmark, floor + tokenbench + peers per format") as report:
        passes = [_token_pass(plan, workdir, i) for i in range(plan.token_passes)]
        keyed: dict[tuple[str, ...], list[TokenRow]] = {}
        for row in itertools.chain.from_iterable(passes):
            keyed.setdefault((row.format, row.op, row.impl, row.kind, row.case), []).append(row)
        rows = [_median_row(group) for group in keyed.values()]
        report(f"{len(rows)} benchmarks, {plan.token_passes} pass(es)")
    method = (
        f"pytest-benchmark {metadata.version('pytest-benchmark')} (`benchmarks/bench_tokens.py`), "
        f"up to {plan.token_max_time:g} s and at least {plan.token_min_rounds} rounds per benchmark, "
        f"median of the rounds, then the median of {plan.token_passes} pass(es) over the whole suite; "
        "each format's floor, tokenbench and peers run back to back in one process; "
        "claims: sub, role, 3 perms, iat, nbf, exp, jti, iss, aud (refresh: + fam, ver)"
    )
    return rows, method


# --- request level --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Session:
    access: str
    refresh: str


def _bench_env(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENBENCH_")}
    env.update(
        TOKENBENCH_ENV="development",
        TOKENBENCH_KEYS_DIR=str(workdir / "keys"),
        TOKENBENCH_DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'bench.db'}",
        TOKENBENCH_LOGIN_RATE_LIMIT="off",
        TOKENBENCH_LOGIN_ADDRESS_RATE_LIMIT="off",
        TOKENBENCH_LOGIN_ACCOUNT_RATE_LIMIT="off",
        TOKENBENCH_COOKIE_SECURE="false",
        TOKENBENCH_ISSUER=ISSUER,
        TOKENBENCH_AUDIENCE=AUDIENCE,
    )
    return env


def _login_request(password: str) -> HttpRequest:
    body = json.dumps({"username": USERNAME, "password": password}).encode()
    return HttpRequest("POST", "/auth/login", (("Content-Type", "application/json"),), body)


def _login(port: int, request: HttpRequest) -> _Session:
    status, headers, body = http_call(
        port, "POST", request.path, body=request.body, headers=dict(request.headers)
    )
    if status != 200:
        raise RuntimeError(f"POST /auth/login answered {status}: {body[:200]!r}")
    cookies = [c.split(";", 1)[0] for c in headers.get_all("Set-Cookie") or []]
    refresh = next((c.split("=", 1)[1] for c in cookies if c.startswith("refresh_token=")), None)
    if refresh is None:
        raise RuntimeError("POST /auth/login set no refresh_token cookie")
    return _Session(access=json.loads(body)["access_token"], refresh=refresh)


def _warm(port: int, request: HttpRequest, count: int) -> None:
    """Sequential requests on one kept-alive connection, so the window starts warm."""
    import http.client  # noqa: PLC0415 - only the warm-up needs it

    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        for _ in range(count):
            conn.request(
                request.method, request.path, body=request.body or None, headers=dict(request.headers)
            )
            conn.getresponse().read()
    finally:
        conn.close()


_QUIET: Final = MachineShare(0.0, 0.0)


@dataclass(frozen=True, slots=True)
class _Window:
    result: LoadResult
    cpu_us: float  # server CPU per request in this window
    load1: float = 0.0  # the 1-minute load average at the end of the window
    machine: MachineShare = _QUIET  # steal and other processes' CPU during the window


def _combine(
    windows: list[_Window], *, app: str, fmt: str, route: str, request: HttpRequest, load: str = ""
) -> HttpRow:
    """One row from repeated windows: medians of the rates, latencies and CPU; sums of the counts."""
    results = [w.result for w in windows]
    statuses: dict[str, int] = {}
    for r in results:
        for status, n in r.statuses.items():
            statuses[status] = statuses.get(status, 0) + n
    return HttpRow(
        app=app,
        format=fmt,
        route=route,
        request=f"{request.method} {request.path}",
        load=load,
        tool=results[0].tool,
        connections=results[0].connections,
        windows=len(windows),
        duration_s=sum(r.duration_s for r in results),
        requests=sum(r.requests for r in results),
        errors=sum(r.errors for r in results),
        rps=statistics.median(r.rps for r in results),
        p50_ms=statistics.median(r.p50_ms for r in results),
        p99_ms=statistics.median(r.p99_ms for r in results),
        cpu_us=statistics.median(w.cpu_us for w in windows),
        statuses=statuses,
        rps_windows=tuple(r.rps for r in results),
        cpu_us_windows=tuple(w.cpu_us for w in windows),
        load1_max=max(w.load1 for w in windows),
        steal_pct=statistics.median(w.machine.steal_pct for w in windows),
        others_pct=statistics.median(w.machine.others_pct for w in windows),
    )


class _Windows:
    """Measures load windows against one running server and collects the rows."""

    def __init__(self, plan: Plan, tool: Tool | None, progress: Progress) -> None:
        self.plan = plan
        self.tool = tool
        self.progress = progress
        self.rows: list[HttpRow] = []

    def _window(
        self, server: RunningServer, request: HttpRequest, scenario: Scenario, cookies: tuple[str, ...]
    ) -> _Window:
        if scenario == "fixed" and request.method == "GET":
            _warm(server.port, request, self.plan.warmup_requests)
        spec = LoadSpec(
            HOST, server.port, request, self.plan.connections, self.plan.window_s, scenario, cookies
        )
        meter = MachineMeter()
        before = server.cpu_seconds()
        result = loadgen.run_load(spec, tool=self.tool if scenario == "fixed" else "python")
        cpu = server.cpu_seconds() - before
        return _Window(result, cpu / max(result.requests, 1) * 1e6, os.getloadavg()[0], meter.read())

    def measure(
        self,
        server: RunningServer,
        *,
        app: str,
        fmt: str,
        route: str,
        request: HttpRequest,
        chains: Callable[[], tuple[str, ...]] | None = None,
    ) -> HttpRow:
        """``plan.repeats`` windows of ``request``; with ``chains``, refresh chains from fresh logins each."""
        label = f"{app} · {fmt} · {request.method} {request.path}"
        with self.progress.step(label) as report:
            windows = [
                self._window(server, request, "refresh-chain", chains())
                if chains is not None
                else self._window(server, request, "fixed", ())
                for _ in range(self.plan.repeats)
            ]
            row = _combine(windows, app=app, fmt=fmt, route=route, request=request)
            report(_summary(row))
        self.rows.append(row)
        return row

    def open_and_me(
        self, server: RunningServer, *, app: str, fmt: str, open_: HttpRequest, me: HttpRequest
    ) -> None:
        """The open route and ``GET /me``, windows alternating, so their difference sees the same machine."""
        with self.progress.step(
            f"{app} · {fmt} · {open_.method} {open_.path} and GET /me, alternating"
        ) as report:
            pairs = [
                (self._window(server, open_, "fixed", ()), self._window(server, me, "fixed", ()))
                for _ in range(self.plan.repeats)
            ]
            rows = [
                _combine([pair[i] for pair in pairs], app=app, fmt=fmt, route=route, request=request)
                for i, (route, request) in enumerate((("open", open_), ("me", me)))
            ]
            report(f"open: {_summary(rows[0])}\n{' ' * 14}→ me:   {_summary(rows[1])}")
        self.rows += rows

    def me_under_login_load(
        self, server: RunningServer, fmt: str, me: HttpRequest, login: HttpRequest
    ) -> None:
        """``GET /me`` measured while ``login_clients`` connections post logins for the whole window."""
        clients = self.plan.login_clients
        load = f"{clients} clients log in continuously"
        lead = min(1.0, self.plan.window_s / 2)  # the login clients run before and after each window
        with self.progress.step(f"service · {fmt} · GET /me while {load}") as report:
            windows: list[_Window] = []
            logins: list[LoadResult] = []
            for _ in range(self.plan.repeats):
                _warm(server.port, me, self.plan.warmup_requests)
                login_spec = LoadSpec(HOST, server.port, login, clients, self.plan.window_s + 2 * lead)
                thread = threading.Thread(target=_collect, args=(login_spec, logins), daemon=True)
                thread.start()
                time.sleep(lead)
                windows.append(self._window(server, me, "fixed", ()))
                thread.join()
            row = _combine(windows, app="service", fmt=fmt, route="me", request=me, load=load)
            count = sum(r.requests for r in logins)
            report(f"{_summary(row)}; {count} logins beside it")
        self.rows.append(row)


def _collect(spec: LoadSpec, into: list[LoadResult]) -> None:
    into.append(loadgen.run_load(spec, tool="python"))


def _summary(row: HttpRow) -> str:
    errors = f", {row.errors} errors" if row.errors else ""
    return (
        f"{row.rps:,.0f} req/s, p50 {row.p50_ms:.2f} ms, p99 {row.p99_ms:.2f} ms, "
        f"{row.cpu_us:,.0f} µs CPU/req ({row.tool}){errors}"
    )


def _service_argv(fmt: FormatName, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "service.cli",
        "serve",
        "--format",
        fmt.value,
        "--host",
        HOST,
        "--port",
        str(port),
    ]


def _app_argv(factory: str, port: int) -> list[str]:
    """A comparison app served like ``tokenbench serve`` does: granian, ASGI, one worker, no access log."""
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "asgi",
        "--factory",
        "--workers",
        "1",
        "--host",
        HOST,
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
        f"benchmarks.apps:{factory}",
    ]


@contextlib.contextmanager
def _started(
    progress: Progress, label: str, argv: list[str], env: Mapping[str, str], port: int, log: Path, ready: str
) -> Iterator[RunningServer]:
    with progress.step(f"start {label}") as report:
        started = time.monotonic()
        server_cm = serve(argv, env=env, port=port, log=log, ready_path=ready)
        server = server_cm.__enter__()
        report(f"ready in {time.monotonic() - started:.1f} s (pid {server.process.pid})")
    try:
        yield server
    finally:
        server_cm.__exit__(None, None, None)


def run_http_level(
    plan: Plan, workdir: Path, progress: Progress, tool: Tool | None
) -> tuple[list[HttpRow], list[SizeRow], str]:
    """Load the service (every format) and the comparison apps; return rows, sizes and a method line."""
    env = _bench_env(workdir)
    for fmt in FormatName:
        generate_key_file(workdir / "keys", fmt)
    password = secrets.token_urlsafe(18)
    with progress.step(f"create the user {USERNAME!r} (argon2id)"):
        subprocess.run(
            [
                sys.executable,
                "-m",
                "service.cli",
                "users",
                "create",
                "--username",
                USERNAME,
                "--password-stdin",
            ],
            input=password + "\n",
            text=True,
            env=env,
            check=True,
            capture_output=True,
        )
    login = _login_request(password)
    windows = _Windows(plan, tool or plan.loadgen, progress)
    sizes = []
    expected = {row.format: row for row in token_sizes(Settings.from_env(env), username=USERNAME)}
    for fmt in FormatName:
        port = free_port()
        argv = _service_argv(fmt, port)
        with _started(
            progress,
            f"tokenbench serve --format {fmt}",
            argv,
            env,
            port,
            workdir / f"{fmt}.log",
            SERVICE_OPEN_PATH,
        ) as server:
            session = _login(server.port, login)
            sizes.append(
                size_row(fmt.value, session.access, session.refresh, cookie=PLAIN_REFRESH_COOKIE.name)
            )
            check_issued(sizes[-1], expected[fmt.value])
            me = HttpRequest("GET", "/me", (("Authorization", f"Bearer {session.access}"),))
            windows.open_and_me(
                server, app="service", fmt=fmt, open_=HttpRequest("GET", SERVICE_OPEN_PATH), me=me
            )
            windows.measure(
                server,
                app="service",
                fmt=fmt,
                route="refresh",
                request=HttpRequest("POST", "/auth/refresh", (("X-Requested-With", "tokenbench-bench"),)),
                chains=functools.partial(_chains, server.port, login, plan.connections),
            )
            windows.measure(server, app="service", fmt=fmt, route="login", request=login)
            if fmt is LOGIN_LOAD_FORMAT:
                windows.me_under_login_load(server, fmt, me, login)
        apps = [("minimal-guard", "minimal_guard_app")]
        if fmt is FormatName.JWT_HS256:
            apps.append(("jwtauth", "jwtauth_app"))
        for app, factory in apps:
            port = free_port()
            app_env = {**env, "TOKENBENCH_FORMAT": fmt.value}
            log = workdir / f"{app}-{fmt}.log"
            with _started(
                progress, f"{app} app ({fmt})", _app_argv(factory, port), app_env, port, log, APPS_OPEN_PATH
            ) as server:
                windows.open_and_me(server, app=app, fmt=fmt, open_=HttpRequest("GET", APPS_OPEN_PATH), me=me)
    windows.rows += _refresh_per_store(plan, workdir, progress)
    used = sorted({row.tool for row in windows.rows})
    method = (
        f"`tokenbench serve` (granian {metadata.version('granian')}, one worker, SQLite, "
        f"login rate limits off) on loopback; closed loop, {plan.connections} connections, "
        f"{plan.window_s:g} s per window after {plan.warmup_requests} warm-up requests, "
        f"{plan.repeats} window(s) per row (medians); load generator: "
        f"{' and '.join(used)} (refresh chains always use the Python client); server CPU from /proc"
    )
    return windows.rows, sizes, method


def _refresh_per_store(plan: Plan, workdir: Path, progress: Progress) -> list[HttpRow]:
    """POST /auth/refresh with 1, 8 and 32 chains on SQLite, PostgreSQL and PostgreSQL + Redis."""
    from benchmarks import refresh_stores  # noqa: PLC0415 - it imports this module's helpers

    rows: list[HttpRow] = []
    for store in refresh_stores.STORES:
        with progress.step(f"service · {REFRESH_STORE_FORMAT} · POST /auth/refresh on {store}") as report:
            measured, skipped = refresh_stores.store_rows(
                workdir, REFRESH_STORE_FORMAT, plan.window_s, stores=(store,)
            )
            rows += measured
            report(
                "; ".join(skipped)
                or ", ".join(
                    f"{r.connections} chains p99 {r.p99_ms:.0f} ms {r.rps:.0f} req/s" for r in measured
                )
            )
    return rows


def _chains(port: int, login: HttpRequest, count: int) -> tuple[str, ...]:
    """Fresh refresh cookies, one per connection of a refresh-chain window (logins run concurrently)."""
    with ThreadPoolExecutor(max_workers=count) as pool:
        return tuple(session.refresh for session in pool.map(lambda _: _login(port, login), range(count)))


def password_verify_row(plan: Plan, progress: Progress) -> TokenRow:
    """The argon2id check of one login alone, with the service's default parameters: thread CPU µs.

    The login's CPU is this, plus the token work (issue an access and a refresh token, token level), plus
    the rest (HTTP, the user and session stores); the report splits it that way.
    """
    rounds = max(3, plan.token_min_rounds)
    with progress.step(f"argon2id password check alone, {rounds} rounds") as report:
        params = Settings().argon2
        hasher = argon2.PasswordHasher(
            time_cost=params.time_cost,
            memory_cost=params.memory_cost,
            parallelism=params.parallelism,
            hash_len=32,
            salt_len=16,
            type=argon2.Type.ID,
        )
        stored = hasher.hash("correct horse battery staple")
        times = []
        for _ in range(rounds):
            started = time.process_time()  # argon2 runs its lanes in threads of this process
            hasher.verify(stored, "correct horse battery staple")
            times.append((time.process_time() - started) * 1e6)
        quartiles = statistics.quantiles(times, n=4)
        row = TokenRow(
            format="",
            op="password-verify",
            impl="argon2id",
            kind="",
            case="ok",
            median_us=statistics.median(times),
            iqr_us=quartiles[2] - quartiles[0],
            mean_us=statistics.mean(times),
            min_us=min(times),
            rounds=rounds,
        )
        report(f"{row.median_us / 1000:,.1f} ms CPU (IQR {row.iqr_us / 1000:,.1f} ms)")
    return row


# --- the run --------------------------------------------------------------------------------------------

QUIET_SAMPLE_S: Final = 2.0
"""Seconds of /proc/stat behind the "before" reading of steal and other processes' CPU."""
SETTLE_POLL_S: Final = 5.0


@dataclass(frozen=True, slots=True)
class Quiet:
    """The machine just before the run, and whether ``--settle`` got it quiet."""

    share: MachineShare
    settled: bool | None  # None: the run was not asked to wait
    waited_s: float


def wait_for_quiet(settle: float, progress: Progress) -> Quiet:
    """Sample the machine; with ``settle`` > 0, wait up to that many seconds until it is not busy.

    Busy is :func:`benchmarks.report.busy_before`: the 1-minute load average above half a core per core,
    or steal or other processes' CPU above the report's limits.
    """
    label = (
        f"the machine before the run (waiting up to {settle:g} s for it to settle)"
        if settle
        else ("the machine before the run")
    )
    with progress.step(label) as report:
        started = time.monotonic()
        while True:
            meter = MachineMeter()
            time.sleep(QUIET_SAMPLE_S)
            share = meter.read()
            load = os.getloadavg()
            reason = busy_before(load, os.cpu_count() or 1, share.steal_pct, share.others_pct)
            waited = time.monotonic() - started
            if not settle or reason is None or waited + SETTLE_POLL_S > settle:
                break
            time.sleep(SETTLE_POLL_S)
        settled = None if not settle else reason is None
        report(
            f"load {load[0]:.2f}, steal {share.steal_pct:.1f} %, other processes {share.others_pct:.0f} % "
            f"of the cores: {reason or 'quiet'}" + (f" after {waited:.0f} s" if settle else "")
        )
    return Quiet(share, settled, waited)


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def _commit() -> str:
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{sha} (with uncommitted changes)" if dirty else sha


def _versions() -> dict[str, str]:
    versions = {}
    for name in LIBRARIES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    return versions


def run_bench(
    plan: Plan,
    *,
    report: Path,
    json_path: Path,
    argv: list[str],
    tool: Tool | None = None,
    stream: TextIO | None = None,
    settle: float = 0.0,
) -> Results:
    """Run everything ``plan`` says, write the JSON, the charts and the report; return the results."""
    progress = Progress(_steps(), stream)
    started = datetime.now(UTC)
    clock = time.monotonic()
    quiet = wait_for_quiet(settle, progress)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="tokenbench-bench-") as tmp:
        workdir = Path(tmp)
        token_rows, token_method = run_token_level(plan, workdir, progress)
        token_rows.append(password_verify_row(plan, progress))
        http_rows, sizes, http_method = run_http_level(plan, workdir, progress, tool)
    meta = Meta(
        mode=plan.mode,
        command=shlex.join(["tokenbench", "bench", *argv]),
        started=started.isoformat(timespec="seconds"),
        elapsed_s=time.monotonic() - clock,
        commit=_commit(),
        python=platform.python_version(),
        libraries=_versions(),
        cpu_model=_cpu_model(),
        cores=os.cpu_count() or 0,
        platform=platform.platform(terse=True),
        load_before=load_before,
        load_after=os.getloadavg(),
        token_method=token_method,
        http_method=http_method,
        http_tool=", ".join(sorted({r.tool for r in http_rows})),
        http_connections=plan.connections,
        http_window_s=plan.window_s,
        login_clients=plan.login_clients,
        steal_before_pct=quiet.share.steal_pct,
        others_before_pct=quiet.share.others_pct,
        settle_s=settle,
        settled=quiet.settled,
        settle_waited_s=quiet.waited_s,
    )
    results = Results(
        meta=meta,
        token=tuple(token_rows),
        http=tuple(http_rows),
        sizes=tuple(sizes),
        reference_sizes=token_sizes(),
    )
    with progress.step(f"write {report}") as done:
        write_report(results, report=report, json_path=json_path)
        done(f"{report}, {json_path} and charts in {chart_dir(report)}")
    return results


def chart_dir(report: Path) -> Path:
    """Charts live in a directory named after the report, beside it."""
    return report.with_suffix("")


def write_report(results: Results, *, report: Path, json_path: Path) -> None:
    """Write the raw JSON, the PNG charts and the Markdown report."""
    write_results(results, json_path)
    charts = write_charts(results, chart_dir(report))
    relative = {name: os.path.relpath(path, report.parent) for name, path in charts.items()}
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(render_report(results, relative), encoding="utf-8")
