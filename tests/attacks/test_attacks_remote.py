"""`tokenbench attacks --url`: the same suite against a real `tokenbench serve` (granian) over TCP."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from formats import FormatName
from service.attacks.matrix import Status, cell_status, failures
from service.attacks.model import Outcome
from service.attacks.suite import run_remote

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Served:
    url: str
    keys_dir: Path
    alice_password: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served_es256(tmp_path: Path) -> Iterator[Served]:
    port = _free_port()
    log = tmp_path / "serve.log"
    environ = {
        **os.environ,
        "TOKENBENCH_FORMAT": FormatName.JWT_ES256.value,
        "TOKENBENCH_KEYS_DIR": str(tmp_path / "keys"),
        "TOKENBENCH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'tokenbench.db'}",
        "TOKENBENCH_COOKIE_SECURE": "false",
        "TOKENBENCH_REFRESH_GRACE": "1",
        "TOKENBENCH_ISSUER": "https://remote.example",
        "TOKENBENCH_AUDIENCE": "remote-api",
        "TOKENBENCH_LOGIN_RATE_LIMIT": "off",
        "TOKENBENCH_ARGON2_TIME_COST": "1",
        "TOKENBENCH_ARGON2_MEMORY_COST": "8",
        "TOKENBENCH_ARGON2_PARALLELISM": "1",
    }
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", "--demo", "--port", str(port)],
            env=environ,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        password = re.search(r"alice\s+role user\s+password (\S+)", log.read_text())
        assert password is not None, log.read_text()
        yield Served(url, tmp_path / "keys", password.group(1))
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


@pytest.mark.e2e
def test_attacks_against_a_running_service_get_nowhere(served_es256: Served) -> None:
    report = run_remote(
        served_es256.url,
        username="alice",
        password=served_es256.alice_password,
        keys_dir=served_es256.keys_dir,
        refresh_grace=1,
    )
    assert report.formats == (FormatName.JWT_ES256,)
    assert list(failures(report)) == []
    outcomes = [obs for cell in report.cells.values() for obs in cell.service]
    assert [obs for obs in outcomes if obs.outcome is Outcome.UNEXPECTED] == []
    not_run = {obs.seen for obs in outcomes if obs.outcome is Outcome.NOT_RUN}
    assert not_run == {
        "start-up attacks start the service: run without --url",
        "needs the service's clock 1201 s ahead (run in-process)",
        "the HTTP client refuses to send it",  # an empty bearer token, a newline in the header (h11)
        "needs the service's database (run in-process, without --url)",  # the account-layer rows
        "needs the service's refresh lifetimes and its clock (run in-process)",  # the session's maximum age
        "needs an in-process deployment: the attacker speaks from many addresses",  # the login rows
    }
    statuses = {
        attack.id: cell_status(report.cell(attack, FormatName.JWT_ES256)) for attack in report.attacks
    }
    assert statuses["CLAIM-AUD-MISMATCH"] is Status.REJECTED
    assert statuses["REFRESH-REPLAY-AFTER-ROTATION"] is Status.REJECTED
    assert statuses["COOKIE-TOSSING-LOGOUT"] is Status.REJECTED  # over plain http: refresh_token at /auth
    assert statuses["JWT-JKU-INJECTION"] is Status.REJECTED
