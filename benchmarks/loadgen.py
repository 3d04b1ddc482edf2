"""Load generators for the request-level benchmark: ``wrk`` when installed, else a Python client.

Both run in their own process, keep HTTP/1.1 connections alive, run closed-loop (each connection sends
its next request when the previous answer arrived) for a bounded time and report the same
:class:`LoadResult`: requests completed, non-2xx answers and socket errors, requests/s, and the p50/p99
latency of the window.

* ``wrk`` (Debian package ``wrk``) reads its request from a generated Lua script and prints its summary
  as JSON from the script's ``done`` hook. It sends one fixed request; refresh chains need state per
  connection, so they always use the Python client.
* The Python client (``python -m benchmarks.loadgen SPEC``) is asyncio over raw sockets: one coroutine
  per connection, pre-encoded requests, minimal response parsing. It is slower than wrk, so with it the
  requests/s of the fastest routes measure the client as much as the server; the server CPU µs per
  request does not depend on the client.

Scenarios: ``fixed`` repeats one request; ``refresh-chain`` starts each connection from its own
logged-in refresh cookie (the caller logs in beforehand, so no login lands in the window) and posts
``/auth/refresh`` with the newest cookie each time, as a browser tab would.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Final, Literal

__all__ = ["HttpRequest", "LoadResult", "LoadSpec", "run_load", "wrk_path"]

Tool = Literal["wrk", "python"]
Scenario = Literal["fixed", "refresh-chain"]

_COOKIE: Final = b"refresh_token="  # plain http (TOKENBENCH_COOKIE_SECURE=false, as benchmarks/run.py serves)


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One HTTP request: method, path, extra headers and body."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def encode(self, host: str, port: int) -> bytes:
        """The request on the wire."""
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}:{port}"]
        lines += [f"{k}: {v}" for k, v in self.headers]
        if self.body or self.method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


@dataclass(frozen=True, slots=True)
class LoadSpec:
    """What to send, to where, how hard and for how long."""

    host: str
    port: int
    request: HttpRequest
    connections: int
    duration: float
    scenario: Scenario = "fixed"
    cookies: tuple[str, ...] = ()  # refresh-chain: the first refresh cookie of each connection

    def __post_init__(self) -> None:
        if self.scenario == "refresh-chain" and len(self.cookies) != self.connections:
            raise ValueError("a refresh chain needs one logged-in cookie per connection")

    def to_json(self) -> str:
        """The spec as JSON, for the client subprocess."""
        data = asdict(self)
        data["request"]["body"] = self.request.body.decode("latin-1")
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> LoadSpec:
        """Inverse of :meth:`to_json`."""
        data = json.loads(text)
        value = data["request"]
        request = HttpRequest(
            method=value["method"],
            path=value["path"],
            headers=tuple((str(k), str(v)) for k, v in value["headers"]),
            body=value["body"].encode("latin-1"),
        )
        return cls(**{**data, "request": request, "cookies": tuple(data["cookies"])})


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What one load window measured."""

    tool: Tool
    connections: int
    duration_s: float
    requests: int
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float
    statuses: dict[str, int] = field(default_factory=dict)


def wrk_path() -> str | None:
    """The ``wrk`` executable, if installed."""
    return shutil.which("wrk")


def run_load(spec: LoadSpec, *, tool: Tool | None = None) -> LoadResult:
    """Run one closed-loop load window and return what it measured (blocks for ``spec.duration``)."""
    chosen = tool or ("wrk" if spec.scenario == "fixed" and wrk_path() else "python")
    if chosen == "wrk":
        return _run_wrk(spec)
    return _run_python(spec)


# --- wrk ------------------------------------------------------------------------------------------------

_WRK_DONE: Final = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\n@@{"requests":%d,"duration_us":%d,"socket_errors":%d,"status_errors":%d,"p50_us":%f,"p99_us":%f}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
"""


def _lua_string(value: str | bytes) -> str:
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    escaped = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else f"\\{ord(c):03d}" for c in text)
    return f'"{escaped}"'


def _wrk_script(request: HttpRequest) -> str:
    lines = [f"wrk.method = {_lua_string(request.method)}"]
    if request.body:
        lines.append(f"wrk.body = {_lua_string(request.body)}")
    lines += [f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in request.headers]
    return "\n".join(lines) + "\n" + _WRK_DONE


def _run_wrk(spec: LoadSpec) -> LoadResult:
    exe = wrk_path()
    if exe is None:  # pragma: no cover - run_load only picks wrk when it is installed
        raise RuntimeError("wrk is not installed")
    seconds = max(1, round(spec.duration))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_wrk_script(spec.request))
    try:
        completed = subprocess.run(
            [
                exe,
                "-t1",
                f"-c{spec.connections}",
                f"-d{seconds}s",
                "--timeout",
                "10s",
                "-s",
                script.name,
                f"http://{spec.host}:{spec.port}{spec.request.path}",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 30,
        )
    finally:
        Path(script.name).unlink()
    line = next(x for x in completed.stdout.splitlines() if x.startswith("@@"))
    data = json.loads(line[2:])
    duration = data["duration_us"] / 1e6
    requests = int(data["requests"])
    errors = int(data["socket_errors"]) + int(data["status_errors"])
    return LoadResult(
        tool="wrk",
        connections=spec.connections,
        duration_s=duration,
        requests=requests,
        errors=errors,
        rps=requests / duration,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        statuses={"non-2xx/3xx": int(data["status_errors"])} if data["status_errors"] else {},
    )


# --- Python client --------------------------------------------------------------------------------------


def _run_python(spec: LoadSpec) -> LoadResult:
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.loadgen", spec.to_json()],
        capture_output=True,
        text=True,
        check=True,
        timeout=spec.duration + 120,
    )
    data = json.loads(completed.stdout)
    return LoadResult(**data)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    at = lower.find(b"\r\ncontent-length:")
    if at >= 0:
        end = lower.index(b"\r\n", at + 2)
        body = await reader.readexactly(int(head[at + 17 : end]))
    elif b"\r\ntransfer-encoding: chunked" in lower:
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunks.append(await reader.readexactly(size + 2))
            if size == 0:
                break
        body = b"".join(c[:-2] for c in chunks)
    else:
        body = b""
    return status, head, body


def _refresh_cookie(head: bytes) -> bytes | None:
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"set-cookie:"):
            value = line.split(b":", 1)[1].strip().split(b";", 1)[0]
            if value.startswith(_COOKIE):  # not __Host-refresh_token: the servers run on plain http
                return value if value != _COOKIE else None
    return None


class _Connection:
    def __init__(self, spec: LoadSpec, cookie: str | None) -> None:
        self.spec = spec
        self.wire = spec.request.encode(spec.host, spec.port)
        self.cookie = None if cookie is None else _COOKIE + cookie.encode("latin-1")

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.spec.host, self.spec.port)

    def request_bytes(self) -> bytes:
        if self.cookie is None:
            return self.wire
        head, _, body = self.wire.partition(b"\r\n\r\n")
        return head + b"\r\nCookie: " + self.cookie + b"\r\n\r\n" + body

    async def run(self, deadline: float, latencies: list[float], statuses: Counter[int]) -> None:
        clock = time.perf_counter
        while (start := clock()) < deadline:
            self.writer.write(self.request_bytes())
            status, head, _ = await _read_response(self.reader)
            latencies.append(clock() - start)
            statuses[status] += 1
            if self.cookie is not None:
                self.cookie = _refresh_cookie(head) or self.cookie
        self.writer.close()


def _percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _drive(spec: LoadSpec) -> LoadResult:
    cookies = spec.cookies or (None,) * spec.connections
    connections = [_Connection(spec, cookie) for cookie in cookies]
    await asyncio.gather(*(c.open() for c in connections))
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    started = time.perf_counter()
    await asyncio.gather(*(c.run(started + spec.duration, latencies, statuses) for c in connections))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return LoadResult(
        tool="python",
        connections=spec.connections,
        duration_s=elapsed,
        requests=len(latencies),
        errors=sum(n for s, n in statuses.items() if not 200 <= s < 400),
        rps=len(latencies) / elapsed,
        p50_ms=_percentile(latencies, 0.50) * 1000,
        p99_ms=_percentile(latencies, 0.99) * 1000,
        statuses={str(s): n for s, n in sorted(statuses.items())},
    )


def main(argv: list[str]) -> int:
    """``python -m benchmarks.loadgen SPEC_JSON``: run the window, print the result as JSON."""
    result = asyncio.run(_drive(LoadSpec.from_json(argv[0])))
    print(json.dumps(asdict(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
