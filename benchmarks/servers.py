"""Start a server process on a free loopback port, wait until it answers, read its CPU time, stop it.

:func:`serve` runs any command that listens on a port; :func:`serve_service` runs ``tokenbench serve``
on the throw-away key directory and database of :func:`service_env` and waits for its open route. Every
benchmark that starts the service (``benchmarks.http_level``, ``benchmarks.refresh_stores``,
``benchmarks.login_flood``) starts it through these, so they measure the same process the same way.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from benchmarks.procstat import tree_cpu_seconds
from benchmarks.subjects import AUDIENCE, ISSUER
from formats import FormatName

__all__ = [
    "HOST",
    "SERVICE_READY_PATH",
    "RunningServer",
    "create_user",
    "free_port",
    "http_call",
    "serve",
    "serve_service",
    "service_env",
]

HOST: Final = "127.0.0.1"
SERVICE_READY_PATH: Final = "/health/live"
"""The service's open route: answers without authentication and without asking a store."""


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


# --- the service --------------------------------------------------------------------------------------


def service_env(
    workdir: Path, *, database: str = "bench.db", login_limits: bool = False, **settings: str
) -> dict[str, str]:
    """The environment of a benchmarked ``tokenbench serve``: development, keys and SQLite under ``workdir``.

    ``database`` is a file name under ``workdir`` or a full database URL; the login rate limits are off
    unless ``login_limits``; ``settings`` are further ``TOKENBENCH_*`` variables without the prefix. Every
    ``TOKENBENCH_*`` variable of the calling environment is dropped, so the run does not depend on it.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENBENCH_")}
    url = database if "://" in database else f"sqlite+aiosqlite:///{workdir / database}"
    env.update(
        TOKENBENCH_ENV="development",
        TOKENBENCH_KEYS_DIR=str(workdir / "keys"),
        TOKENBENCH_DATABASE_URL=url,
        TOKENBENCH_COOKIE_SECURE="false",
        TOKENBENCH_ISSUER=ISSUER,
        TOKENBENCH_AUDIENCE=AUDIENCE,
    )
    if not login_limits:
        for limit in ("LOGIN_RATE_LIMIT", "LOGIN_ADDRESS_RATE_LIMIT", "LOGIN_ACCOUNT_RATE_LIMIT"):
            env[f"TOKENBENCH_{limit}"] = "off"
    env.update({f"TOKENBENCH_{name.upper()}": value for name, value in settings.items()})
    return env


def create_user(env: Mapping[str, str], username: str, password: str) -> None:
    """``tokenbench users create`` in the database of ``env`` (argon2id, as the service hashes)."""
    subprocess.run(
        [sys.executable, "-m", "service.cli", "users", "create", "--username", username, "--password-stdin"],
        input=password + "\n",
        text=True,
        env=dict(env),
        check=True,
        capture_output=True,
    )


@contextlib.contextmanager
def serve_service(
    env: Mapping[str, str], log: Path, *, fmt: FormatName | None = None, timeout: float = 60.0
) -> Iterator[RunningServer]:
    """``tokenbench serve`` (one granian worker) on a free port until the block ends, once it answers.

    ``fmt`` overrides ``TOKENBENCH_FORMAT`` with ``--format``.
    """
    port = free_port()
    argv = [sys.executable, "-m", "service.cli", "serve", "--host", HOST, "--port", str(port)]
    if fmt is not None:
        argv += ["--format", fmt.value]
    with serve(argv, env=env, port=port, log=log, ready_path=SERVICE_READY_PATH, timeout=timeout) as server:
        yield server
