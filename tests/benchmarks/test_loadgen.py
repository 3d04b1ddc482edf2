"""The load generators against a tiny HTTP/1.1 server that checks what it receives."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from benchmarks.loadgen import HttpRequest, LoadSpec, run_load, wrk_path
from benchmarks.servers import http_call

BODY = b'{"username": "bench \\"user\\"", "password": "p\xc3\xa4ss"}'


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: ClassVar[list[tuple[str, str, str | None, bytes]]] = []
    chains: ClassVar[dict[str, int]] = {}
    lock = threading.Lock()

    def log_message(self, fmt: str, *args: object) -> None:
        pass

    def _answer(self, status: int, cookie: str | None = None) -> None:
        body = b'{"ok":true}' if status == 200 else b'{"ok":false}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if cookie is not None:
            self.send_header("Set-Cookie", f"refresh_token={cookie}; HttpOnly; Path=/auth")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        with self.lock:
            self.seen.append(("GET", self.path, self.headers.get("Authorization"), b""))
        self._answer(200)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with self.lock:
            self.seen.append(("POST", self.path, self.headers.get("Authorization"), body))
            if self.path == "/auth/login":
                family = f"f{len(self.chains)}"
                self.chains[family] = 0
                self._answer(200, cookie=f"{family}.0")
                return
            if self.path == "/auth/refresh":
                # Only the newest cookie of a family is accepted, like the real rotation.
                cookie = (self.headers.get("Cookie") or "").removeprefix("refresh_token=")
                family, _, version = cookie.partition(".")
                if family not in self.chains or self.chains[family] != int(version or -1):
                    self._answer(401)
                    return
                self.chains[family] += 1
                self._answer(200, cookie=f"{family}.{self.chains[family]}")
                return
        self._answer(200)


@pytest.fixture
def server() -> Iterator[int]:
    _Handler.seen = []
    _Handler.chains = {}
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


TOOLS = [
    "python",
    pytest.param("wrk", marks=pytest.mark.skipif(wrk_path() is None, reason="wrk is not installed")),
]


@pytest.mark.parametrize("tool", TOOLS)
def test_fixed_load_sends_the_exact_request_and_counts_answers(server: int, tool: str) -> None:
    request = HttpRequest("POST", "/auth/login", (("Authorization", "Bearer a.b.c"),), BODY)
    spec = LoadSpec("127.0.0.1", server, request, connections=2, duration=1.0)
    result = run_load(spec, tool=tool)  # type: ignore[arg-type]
    assert result.tool == tool
    assert result.requests > 10
    assert result.errors == 0
    assert 0 < result.p50_ms <= result.p99_ms
    assert result.rps == pytest.approx(result.requests / result.duration_s)
    assert set(_Handler.seen) == {("POST", "/auth/login", "Bearer a.b.c", BODY)}


def _login(port: int) -> str:
    status, headers, _ = http_call(port, "POST", "/auth/login", body=b"{}")
    assert status == 200
    return headers["Set-Cookie"].split(";")[0].removeprefix("refresh_token=")


def test_refresh_chain_always_presents_the_newest_cookie(server: int) -> None:
    cookies = tuple(_login(server) for _ in range(3))
    spec = LoadSpec(
        "127.0.0.1",
        server,
        HttpRequest("POST", "/auth/refresh"),
        connections=3,
        duration=1.0,
        scenario="refresh-chain",
        cookies=cookies,
    )
    result = run_load(spec)
    assert result.tool == "python"
    assert result.requests > 10
    assert result.statuses == {"200": result.requests}
    assert len(_Handler.chains) == 3
    assert sum(_Handler.chains.values()) == result.requests


def test_python_client_counts_error_statuses(server: int) -> None:
    # Refresh without a login: every answer is a 401, and the client says so instead of hiding it.
    spec = LoadSpec("127.0.0.1", server, HttpRequest("POST", "/auth/refresh"), connections=1, duration=0.5)
    result = run_load(spec, tool="python")
    assert result.errors == result.requests > 0
    assert result.statuses == {"401": result.requests}


def test_load_spec_survives_the_trip_to_the_client_process() -> None:
    spec = LoadSpec(
        "127.0.0.1",
        8000,
        HttpRequest("POST", "/auth/refresh", (("X-A", "1"),), BODY),
        connections=8,
        duration=2.5,
        scenario="refresh-chain",
        cookies=tuple(f"c{i}" for i in range(8)),
    )
    assert LoadSpec.from_json(spec.to_json()) == spec
    assert json.loads(spec.to_json())["connections"] == 8


def test_refresh_chain_needs_a_cookie_per_connection() -> None:
    with pytest.raises(ValueError, match="one logged-in cookie per connection"):
        LoadSpec("127.0.0.1", 1, HttpRequest("POST", "/auth/refresh"), 2, 1.0, "refresh-chain", ("c",))
