"""``tokenbench bench`` end to end: real servers, real load, a report with every section and format.

The run uses the hidden ``--smoke`` plan (every step of ``--quick`` with the shortest windows, ~50 s);
``--quick`` itself only lengthens the windows.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.report import CONTROLS, FORMATS
from benchmarks.results import read_results

pytestmark = [pytest.mark.e2e, pytest.mark.slow]  # ~2.5 min: make test-slow


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("bench")
    report = out / "report.md"
    completed = subprocess.run(
        [sys.executable, "-m", "service.cli", "bench", "--smoke", "--report", str(report)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return report, completed.stderr


def test_bench_writes_a_report_with_every_section_and_every_format(run: tuple[Path, str]) -> None:
    report, _ = run
    text = report.read_text()
    header = text.split("## Targets")[0]
    assert "**SMOKE RUN**" in header
    assert "**The machine was busy**" in header or "**The machine was quiet**" in header
    assert "* **before the run**: load average" in header
    assert "* **during the request-level windows**" in header
    for heading in (
        "## Targets",
        "## How to read this",
        "## 1. Token level",
        "## 2. Request level",
        "## 3. Sizes",
    ):
        assert heading in text
    for route in ("GET /health/live", "GET /me", "POST /auth/refresh", "POST /auth/login"):
        assert f"#### {route}" in text
    for fmt in FORMATS:
        assert f"#### {fmt}: verify an access token" in text
        assert f"| service | {fmt} |" in text
        assert f"| minimal-guard | {fmt} |" in text
    assert "| jwtauth | jwt-hs256 |" in text
    assert "while 8 clients log in continuously" in text
    for section in (
        "### The algorithm and the envelope",
        "### Rejections against a valid verify",
        "### Migration window",
    ):
        assert section in text
    for control in CONTROLS:
        assert f"| {control} (control) |" in text


def test_bench_writes_raw_json_and_charts_beside_the_report(run: tuple[Path, str]) -> None:
    report, _ = run
    results = read_results(report.with_suffix(".json"))
    # every format, the control rows (RS256, JWE) and the argon2id check alone (no format)
    assert {r.format for r in results.token} == {*FORMATS, *CONTROLS, ""}
    assert {(r.format, r.comparison, r.case) for r in results.ratios} == {
        (fmt, comparison, case)
        for fmt in FORMATS
        for comparison, case in (("window", ""), ("reject", "bad-signature"), ("reject", "wrong-kind"))
    }
    assert {r.format for r in results.sizes} == set(FORMATS)
    # every request of every window got a 2xx answer: the tokens, cookies and logins were real
    assert all(r.errors == 0 and r.requests > 0 for r in results.http), [
        (r.app, r.format, r.route, r.statuses) for r in results.http if r.errors or not r.requests
    ]
    # the machine was read before the run and around every window; sizes from benchmarks.sizes
    assert results.meta.steal_before_pct is not None
    assert results.meta.others_before_pct is not None
    assert all(
        r.steal_pct is not None and r.load1_max is not None
        for r in results.http
        if not r.load.startswith("store")
    )
    assert [r.format for r in results.reference_sizes] == list(FORMATS)
    assert any(r.op == "password-verify" for r in results.token)
    for chart in ("verify-formats", "verify", "http", "cost-stack", "sizes"):
        path = report.parent / "report" / f"{chart}.png"
        assert path.read_bytes()[:4] == b"\x89PNG"
        assert f"(report/{chart}.png)" in report.read_text()


def test_bench_shows_its_progress_step_by_step(run: tuple[Path, str]) -> None:
    _, stderr = run
    steps = [re.match(r"\[ *(\d+)/(\d+) ", line) for line in stderr.splitlines() if line.startswith("[")]
    numbers = [(int(m[1]), int(m[2])) for m in steps if m]
    total = numbers[0][1]
    assert numbers == [(i, total) for i in range(1, total + 1)]
    assert "the machine before the run" in stderr.splitlines()[0]
    assert "token level" in stderr.splitlines()[2]


def test_bench_measures_refresh_chains_on_every_store(run: tuple[Path, str]) -> None:
    report, stderr = run
    text = report.read_text()
    assert "### Refresh under load, per store" in text
    for chains in (1, 8, 32):
        assert f"| sqlite | {chains} |" in text
    for store in ("postgresql", "postgresql+redis"):  # measured, or skipped with the reason
        assert f"| {store} | 32 |" in text or f"{store}: skipped" in stderr
    assert "refresh p99 at 32 chains within 10" in text
