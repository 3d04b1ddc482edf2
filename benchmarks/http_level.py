"""Request level of ``tokenbench bench``: the service and the comparison apps over HTTP, and token sizes.

The service runs under ``tokenbench serve`` (one granian worker), once per format, on a throw-away SQLite
file and key directory (:func:`benchmarks.servers.serve_service`), loaded over loopback by
:mod:`benchmarks.loadgen` (``wrk -t1`` when installed) for a bounded window per route; the comparison apps
(:mod:`benchmarks.apps`) are served the same way, started beside the service so that their ``GET /me``
windows alternate with the service's. Server CPU comes from ``/proc`` before and after each
window (:mod:`benchmarks.procstat`). Sizes are the access and refresh tokens ``POST /auth/login``
returned, per format.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import secrets
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Final

from benchmarks import loadgen
from benchmarks.loadgen import HttpRequest, LoadResult, LoadSpec, Scenario, Tool
from benchmarks.plan import Plan, Progress
from benchmarks.procstat import MachineMeter, MachineShare
from benchmarks.results import HttpRow, SizeRow
from benchmarks.servers import (
    HOST,
    SERVICE_READY_PATH,
    RunningServer,
    create_user,
    free_port,
    http_call,
    serve,
    serve_service,
    service_env,
)
from benchmarks.sizes import check_issued, size_row, token_sizes
from formats import FormatName
from formats.keys import generate_key_file
from service.auth.credentials import PLAIN_REFRESH_COOKIE
from service.settings import Settings

__all__ = ["USERNAME", "Session", "log_in", "login_request", "run_http_level"]

APPS_OPEN_PATH: Final = "/open"
LOGIN_LOAD_FORMAT: Final = FormatName.JWT_HS256
"""GET /me under login load is measured on the cheapest verify, where a stalled event loop shows most."""
USERNAME: Final = "bench"
REFRESH_STORE_FORMAT: Final = FormatName.JWT_HS256
"""The format of the per-store refresh rows: the cheapest token work, so the store's share shows most."""


ARGON2_QUEUE: Final = 1000
"""``TOKENBENCH_ARGON2_QUEUE`` of the benchmarked service: no login of a window is refused for room."""


@dataclass(frozen=True, slots=True)
class Session:
    access: str
    refresh: str


def login_request(password: str) -> HttpRequest:
    body = json.dumps({"username": USERNAME, "password": password}).encode()
    return HttpRequest("POST", "/auth/login", (("Content-Type", "application/json"),), body)


def log_in(port: int, request: HttpRequest) -> Session:
    status, headers, body = http_call(
        port, "POST", request.path, body=request.body, headers=dict(request.headers)
    )
    if status != 200:
        raise RuntimeError(f"POST /auth/login answered {status}: {body[:200]!r}")
    cookies = [c.split(";", 1)[0] for c in headers.get_all("Set-Cookie") or []]
    refresh = next((c.split("=", 1)[1] for c in cookies if c.startswith("refresh_token=")), None)
    if refresh is None:
        raise RuntimeError("POST /auth/login set no refresh_token cookie")
    return Session(access=json.loads(body)["access_token"], refresh=refresh)


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
class _Subject:
    """One app under load: its name in the report, its running server and its open route."""

    app: str
    server: RunningServer
    open_: HttpRequest


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
        p99_ms_windows=tuple(r.p99_ms for r in results),
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

    def open_and_me(self, subjects: Sequence[_Subject], *, fmt: str, me: HttpRequest) -> None:
        """Each app's open route and ``GET /me``, windows alternating across the apps (service open,
        service me, guard open, guard me, ...; ``plan.repeats`` rounds), so the apps' ratios and each
        app's open/me difference see the same machine: it is shared, and its load drifts in minutes."""
        apps = ", ".join(subject.app for subject in subjects)
        with self.progress.step(f"{apps} · {fmt} · open route and GET /me, alternating") as report:
            rounds = [
                [
                    (
                        self._window(subject.server, subject.open_, "fixed", ()),
                        self._window(subject.server, me, "fixed", ()),
                    )
                    for subject in subjects
                ]
                for _ in range(self.plan.repeats)
            ]
            lines = []
            for index, subject in enumerate(subjects):
                pairs = [windows[index] for windows in rounds]
                rows = [
                    _combine(
                        [pair[i] for pair in pairs], app=subject.app, fmt=fmt, route=route, request=request
                    )
                    for i, (route, request) in enumerate((("open", subject.open_), ("me", me)))
                ]
                lines.append(f"{subject.app}: open {_summary(rows[0])}; me {_summary(rows[1])}")
                self.rows += rows
            report(f"\n{' ' * 14}".join(lines))

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
    progress: Progress, label: str, start: Callable[[], contextlib.AbstractContextManager[RunningServer]]
) -> Iterator[RunningServer]:
    """Enter ``start()`` as one progress step (how long the server took to answer), stay in it after."""
    with contextlib.ExitStack() as stack:
        with progress.step(f"start {label}") as report:
            started = time.monotonic()
            server = stack.enter_context(start())
            report(f"ready in {time.monotonic() - started:.1f} s (pid {server.process.pid})")
        yield server


def run_http_level(
    plan: Plan, workdir: Path, progress: Progress, tool: Tool | None
) -> tuple[list[HttpRow], list[SizeRow], str]:
    """Load the service (every format) and the comparison apps; return rows, sizes and a method line."""
    # The argon2 queue is opened wide: a login window measures what a login costs, not the queue's 503s.
    # With the default bound (8), the requests a window leaves in flight when it ends fill the queue for
    # the next window, whose clients are then refused at once and retry at once: a 2 ms 503 loop that
    # made 99 % of a login row errors. The queue itself is measured by ``make bench-flood``.
    env = service_env(workdir, argon2_queue=str(ARGON2_QUEUE))
    for fmt in FormatName:
        generate_key_file(workdir / "keys", fmt)
    password = secrets.token_urlsafe(18)
    with progress.step(f"create the user {USERNAME!r} (argon2id)"):
        create_user(env, USERNAME, password)
    login = login_request(password)
    windows = _Windows(plan, tool or plan.loadgen, progress)
    sizes = []
    expected = {row.format: row for row in token_sizes(Settings.from_env(env), username=USERNAME)}
    for fmt in FormatName:
        with contextlib.ExitStack() as stack:
            server = stack.enter_context(
                _started(
                    progress,
                    f"tokenbench serve --format {fmt}",
                    functools.partial(serve_service, env, workdir / f"{fmt}.log", fmt=fmt),
                )
            )
            subjects = [_Subject("service", server, HttpRequest("GET", SERVICE_READY_PATH))]
            apps = [("minimal-guard", "minimal_guard_app")]
            if fmt is FormatName.JWT_HS256:
                apps.append(("jwtauth", "jwtauth_app"))
            for app, factory in apps:  # started beside the service: their windows alternate with its
                app_env = {**env, "TOKENBENCH_FORMAT": fmt.value}
                log = workdir / f"{app}-{fmt}.log"
                port = free_port()
                start = functools.partial(
                    serve,
                    _app_argv(factory, port),
                    env=app_env,
                    port=port,
                    log=log,
                    ready_path=APPS_OPEN_PATH,
                )
                app_server = stack.enter_context(_started(progress, f"{app} app ({fmt})", start))
                subjects.append(_Subject(app, app_server, HttpRequest("GET", APPS_OPEN_PATH)))
            session = log_in(server.port, login)
            sizes.append(
                size_row(fmt.value, session.access, session.refresh, cookie=PLAIN_REFRESH_COOKIE.name)
            )
            check_issued(sizes[-1], expected[fmt.value])
            me = HttpRequest("GET", "/me", (("Authorization", f"Bearer {session.access}"),))
            windows.open_and_me(subjects, fmt=fmt, me=me)
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
    windows.rows += _refresh_per_store(plan, workdir, progress)
    used = sorted({row.tool for row in windows.rows})
    method = (
        f"`tokenbench serve` (granian {metadata.version('granian')}, one worker, SQLite, "
        f"login rate limits off, argon2 queue {ARGON2_QUEUE}) on loopback; "
        f"closed loop, {plan.connections} connections, "
        f"{plan.window_s:g} s per window after {plan.warmup_requests} warm-up requests, "
        f"{plan.repeats} window(s) per row (medians), the comparison apps' windows alternating with "
        f"the service's; load generator: "
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
        return tuple(session.refresh for session in pool.map(lambda _: log_in(port, login), range(count)))
