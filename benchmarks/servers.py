"""Start a server process on a free loopback port, wait until it answers, read its CPU time, stop it."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.procstat import tree_cpu_seconds

__all__ = ["RunningServer", "free_port", "http_call", "serve"]

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def http_call(
    port: int,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request over a fresh connection: (status, headers, body)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=dict(headers or {}))
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


@dataclass(frozen=True, slots=True)
class RunningServer:
    """A started server: its port, its process and its log."""

    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def cpu_seconds(self) -> float:
        """CPU seconds the server's process tree has used so far."""
        return tree_cpu_seconds(self.process.pid)


def _wait_ready(server: RunningServer, ready_path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"server exited with status {server.process.returncode} before answering; "
                f"log:\n{server.log.read_text(errors='replace')[-2000:]}"
            )
        with contextlib.suppress(OSError):
            status, _, _ = http_call(server.port, "GET", ready_path, timeout=2.0)
            if status == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"server did not answer GET {ready_path} within {timeout:.0f} s; log: {server.log}")


@contextlib.contextmanager
def serve(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    port: int,
    log: Path,
    ready_path: str,
    cwd: Path | None = None,
    timeout: float = 60.0,
) -> Iterator[RunningServer]:
    """Run ``argv`` (which must listen on ``port``) in its own session until the block ends."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen(
            list(argv),
            env={**os.environ, **env},
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = RunningServer(port=port, process=process, log=log)
    try:
        _wait_ready(server, ready_path, timeout)
        yield server
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
