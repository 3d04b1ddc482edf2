"""The suite's own machinery can fail: it sees a token that gets through, a fetch of the jku URL, an
issuer passing a nonce, a service that starts with a bad key; and it records what `serve` prints."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from formats import FormatName, Kind
from service.attacks.context import Context
from service.attacks.key_management import _encodes_with_nonce, hs256_key_file
from service.attacks.matrix import Status, cell_status, failures
from service.attacks.model import (
    MALFORMED,
    REJECT,
    Attack,
    Outcome,
    Probe,
    Reply,
    Section,
    StartupCase,
    every,
)
from service.attacks.runner import JkuListener
from service.attacks.startup import KEYS_DIR_TOKEN, start_case
from service.attacks.suite import run_in_process
from service.attacks.target import judge_reply

ROOT = Path(__file__).resolve().parents[2]


def genuine_token(ctx: Context) -> Iterator[Probe]:
    yield Probe("a genuine access token, expected to be refused", ctx.sample(Kind.ACCESS), MALFORMED)


CANARY = Attack(
    "CANARY", "a token the service must accept", Section.PRINCIPLES, every(REJECT), probes=genuine_token
)


def test_runner_reports_a_token_the_service_accepts_as_got_through() -> None:
    report = run_in_process([FormatName.PASETO_V4_PUBLIC], attacks=[CANARY])
    cell = report.cell(CANARY, FormatName.PASETO_V4_PUBLIC)
    assert cell_status(cell) is Status.ACCEPTED
    assert report.failed
    assert list(failures(report)) == [
        "CANARY [paseto-v4-public] a genuine access token, expected to be refused: "
        "ACCEPTED (403 insufficient_role)"
    ]


@pytest.mark.parametrize(
    ("reply", "outcome"),
    [
        (Reply(200), Outcome.ACCEPTED),
        (Reply(403, "insufficient_role"), Outcome.ACCEPTED),
        (Reply(500, "internal_error"), Outcome.ERROR),
        (Reply(401, "token_expired"), Outcome.UNEXPECTED),
        (Reply(400, "invalid_request"), Outcome.UNEXPECTED),
        (Reply(401, "token_malformed"), Outcome.REJECTED),
    ],
)
def test_reply_is_judged_by_status_and_code(reply: Reply, outcome: Outcome) -> None:
    judged = judge_reply("variant", reply, "token_malformed")
    assert judged.outcome is outcome


def test_jku_listener_counts_a_fetch() -> None:
    listener = JkuListener()
    try:
        assert listener.hits() == 0
        httpx.get(listener.url, timeout=5)
        assert listener.hits() == 1
    finally:
        listener.close()


def test_nonce_check_finds_an_issuer_that_passes_a_nonce(tmp_path: Path) -> None:
    bad, good = tmp_path / "bad.py", tmp_path / "good.py"
    bad.write_text("import pyseto\npyseto.encode(key, payload, nonce=bytes(32))\n")
    good.write_text("ChaCha20.new(key=key, nonce=nonce).decrypt(body)\npyseto.encode(key, payload)\n")
    assert _encodes_with_nonce(bad)
    assert not _encodes_with_nonce(good)


def test_start_case_reports_a_service_that_starts_as_got_through() -> None:
    case = StartupCase("a good key only", FormatName.JWT_HS256, with_valid_key=True)
    assert start_case(case).outcome is Outcome.ACCEPTED


def test_serve_prints_the_refusal_the_suite_records(tmp_path: Path) -> None:
    weak = hs256_key_file(b"your-256-bit-secret")
    recorded = start_case(StartupCase("weak", FormatName.JWT_HS256, files={"jwt-hs256/weak.jwk": weak}))
    keys = tmp_path / "keys"
    (keys / "jwt-hs256").mkdir(parents=True)
    (keys / "jwt-hs256" / "weak.jwk").write_text(weak)
    environ = {
        **os.environ,
        "TOKENBENCH_FORMAT": "jwt-hs256",
        "TOKENBENCH_ENV": "production",
        "TOKENBENCH_ISSUER": "https://tokenbench.test",
        "TOKENBENCH_AUDIENCE": "tokenbench.test",
        "TOKENBENCH_KEYS_DIR": str(keys),
        "TOKENBENCH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}",
    }
    served = subprocess.run(
        [sys.executable, "-m", "service.cli", "serve", "--port", "9"],
        env=environ,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert served.returncode == 2
    assert recorded.outcome is Outcome.REFUSED
    assert served.stderr.strip() == recorded.seen.replace(KEYS_DIR_TOKEN, str(keys))
