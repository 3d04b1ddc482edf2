"""The per-store refresh rows in the report: the table, the three targets, and the verdict lines."""

from __future__ import annotations

from pathlib import Path

import msgspec

from benchmarks.refresh_stores import store_of, verdicts
from benchmarks.report import Verdict, X, refresh_store_table, render_report, target_checks
from benchmarks.results import STORE_LOAD, HttpRow, Results, read_results

RECORDED = Path(__file__).with_name("recorded_run.json")


def row(store: str, chains: int, rps: float, p50: float, p99: float, cpu: float) -> HttpRow:
    return HttpRow(
        app="service",
        format="jwt-hs256",
        route="refresh",
        request="POST /auth/refresh",
        load=f"{STORE_LOAD}{store}",
        tool="python",
        connections=chains,
        windows=1,
        duration_s=5,
        requests=int(rps * 5),
        errors=0,
        rps=rps,
        p50_ms=p50,
        p99_ms=p99,
        cpu_us=cpu,
    )


STORE_ROWS = (
    row("sqlite", 1, 100, 7.4, 33.8, 1500),
    row("sqlite", 8, 137, 21.5, 670.2, 5842),
    row("sqlite", 32, 89, 121.5, 3348.0, 6738),
    row("postgresql+redis", 1, 60, 14.0, 77.1, 4477),
    row("postgresql+redis", 8, 111, 69.3, 115.4, 3792),
    row("postgresql+redis", 32, 112, 292.3, 479.4, 4151),
)


def with_stores() -> Results:
    recorded = read_results(RECORDED)
    return msgspec.structs.replace(recorded, http=(*recorded.http, *STORE_ROWS))


def test_the_store_table_sets_p99_against_p50_and_cpu_against_one_chain() -> None:
    table = refresh_store_table(with_stores())
    assert table is not None
    sqlite_32 = table.rows[2]
    assert sqlite_32[:2] == ("sqlite", "32")
    assert sqlite_32[5] == f"{3348.0 / 121.5:.2f}{X}"
    assert sqlite_32[7] == f"{6738 / 1500:.2f}{X}"
    assert "### Refresh under load, per store" in render_report(with_stores(), {})


def test_the_three_refresh_targets_are_judged_per_store() -> None:
    checks = {c.target: c.verdict for c in target_checks(with_stores())}
    assert checks[f"refresh p99 at 32 chains within 10{X} p50 (sqlite)"] is Verdict.MISSES
    assert checks[f"refresh p99 at 32 chains within 10{X} p50 (postgresql+redis)"] is Verdict.HOLDS
    assert checks[f"server CPU per refresh under load within 2{X} one chain's (sqlite)"] is Verdict.MISSES
    assert (
        checks[f"server CPU per refresh under load within 2{X} one chain's (postgresql+redis)"]
        is Verdict.HOLDS
    )
    assert checks["PostgreSQL + Redis refresh req/s at the most chains at least SQLite's"] is Verdict.HOLDS


def test_a_report_without_store_rows_has_neither_the_table_nor_its_targets() -> None:
    recorded = read_results(RECORDED)
    assert refresh_store_table(recorded) is None
    assert not any("per refresh" in c.target or "refresh req/s" in c.target for c in target_checks(recorded))


def test_the_command_line_verdicts_match_the_targets() -> None:
    lines = verdicts(list(STORE_ROWS))
    assert [store_of(r) for r in STORE_ROWS[:1]] == ["sqlite"]
    assert lines[0].startswith(f"sqlite: p99/p50 at 32 chains {3348.0 / 121.5:.1f}x (MISSES")
    assert lines[-1] == "postgresql+redis / sqlite req/s at 32 chains: 1.26x (ok >= 1x)"
