"""``tokenbench bench``: run the measurements of every level in one go and write the report.

1. Token level (:mod:`benchmarks.token_level`): ``benchmarks/bench_tokens.py`` under pytest-benchmark in
   its own process (JSON out).
2. Request level and sizes (:mod:`benchmarks.http_level`): the service under ``tokenbench serve`` per
   format, and the comparison apps, loaded over loopback; the tokens ``POST /auth/login`` returned.

This module only orchestrates: it runs the levels in order, records the machine and writes the JSON, the
charts and the Markdown report (:func:`write_report`). How long and how hard is a
:class:`benchmarks.plan.Plan`.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shlex
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Final, TextIO

from benchmarks.charts import write_charts
from benchmarks.http_level import run_http_level
from benchmarks.loadgen import Tool
from benchmarks.noise import password_check_row, wait_for_quiet
from benchmarks.plan import PLANS, Plan, Progress
from benchmarks.report import render_report
from benchmarks.results import Meta, Results, write_results
from benchmarks.sizes import token_sizes
from benchmarks.token_level import run_interleaved, run_token_level
from formats import FormatName

__all__ = ["PLANS", "Plan", "chart_dir", "run_bench", "write_report"]

PROJECT_ROOT: Final = Path(__file__).resolve().parents[1]

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


def _steps() -> int:
    formats = len(FormatName)
    # the machine before the run; token level; argon2id alone; interleaved A/B; user; per format: service
    # start, open + me, refresh, login, guard start, open + me; login load; JWTAuth start, open + me;
    # refresh per store; report
    return 1 + 1 + 1 + 1 + 1 + formats * 6 + 1 + 2 + 3 + 1


# --- the run --------------------------------------------------------------------------------------------


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
        token_rows.append(password_check_row(plan, progress))
        ratio_rows, ratio_method = run_interleaved(plan, workdir, progress)
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
        ratio_method=ratio_method,
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
        ratios=tuple(ratio_rows),
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
