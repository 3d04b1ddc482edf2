"""Token level of ``tokenbench bench``: the pytest-benchmark suite and the interleaved A/B comparisons.

``benchmarks/bench_tokens.py`` runs under pytest-benchmark ``plan.token_passes`` times (each pass in a
fresh process, JSON out); every benchmark becomes one :class:`~benchmarks.results.TokenRow`, the median
pass of its passes. Then :mod:`benchmarks.interleaved` runs in a process of its own: the ratios the
window and rejection targets are judged on (:class:`~benchmarks.results.RatioRow`).
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Final

import msgspec

from benchmarks.plan import Plan, Progress
from benchmarks.results import RatioRow, TokenRow

__all__ = ["BENCH_FILE", "run_interleaved", "run_token_level"]

BENCH_FILE: Final = Path(__file__).with_name("bench_tokens.py")
PROJECT_ROOT: Final = Path(__file__).resolve().parents[1]


def _token_pass(plan: Plan, workdir: Path, index: int) -> list[TokenRow]:
    out = workdir / f"token-benchmarks-{index}.json"
    log = workdir / f"token-benchmarks-{index}.log"
    argv = [
        sys.executable,
        "-m",
        "pytest",
        str(BENCH_FILE),
        "-v",
        "-p",
        "no:cacheprovider",
        "--benchmark-enable",
        f"--benchmark-max-time={plan.token_max_time}",
        f"--benchmark-min-rounds={plan.token_min_rounds}",
        f"--benchmark-json={out}",
        "-W",
        "ignore::pytest_benchmark.logger.PytestBenchmarkWarning",
    ]
    cwd = PROJECT_ROOT if (PROJECT_ROOT / "pyproject.toml").exists() else None
    with log.open("w") as handle:
        completed = subprocess.run(argv, cwd=cwd, stdout=handle, stderr=subprocess.STDOUT, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"token-level benchmarks failed:\n{log.read_text()[-3000:]}")
    return [
        TokenRow(
            format=b["extra_info"]["format"],
            op=b["extra_info"]["op"],
            impl=b["extra_info"]["impl"],
            kind=b["extra_info"]["kind"],
            case=b["extra_info"]["case"],
            median_us=b["stats"]["median"] * 1e6,
            iqr_us=b["stats"]["iqr"] * 1e6,
            mean_us=b["stats"]["mean"] * 1e6,
            min_us=b["stats"]["min"] * 1e6,
            rounds=b["stats"]["rounds"],
        )
        for b in json.loads(out.read_text())["benchmarks"]
    ]


def _median_row(rows: list[TokenRow]) -> TokenRow:
    """One row from the passes: the median pass (by median), with every pass's rounds counted."""
    middle = sorted(rows, key=lambda r: r.median_us)[(len(rows) - 1) // 2]
    return msgspec.structs.replace(
        middle, min_us=min(r.min_us for r in rows), rounds=sum(r.rounds for r in rows)
    )


def run_token_level(plan: Plan, workdir: Path, progress: Progress) -> tuple[list[TokenRow], str]:
    """Run the pytest-benchmark suite ``token_passes`` times in its own process; rows and a method line."""
    with progress.step("token level: pytest-benchmark, floor + tokenbench + peers per format") as report:
        passes = [_token_pass(plan, workdir, i) for i in range(plan.token_passes)]
        keyed: dict[tuple[str, ...], list[TokenRow]] = {}
        for row in itertools.chain.from_iterable(passes):
            keyed.setdefault((row.format, row.op, row.impl, row.kind, row.case), []).append(row)
        rows = [_median_row(group) for group in keyed.values()]
        report(f"{len(rows)} benchmarks, {plan.token_passes} pass(es)")
    method = (
        f"pytest-benchmark {metadata.version('pytest-benchmark')} (`benchmarks/bench_tokens.py`), "
        f"up to {plan.token_max_time:g} s and at least {plan.token_min_rounds} rounds per benchmark, "
        f"median of the rounds, then the median of {plan.token_passes} pass(es) over the whole suite; "
        "each format's floor, tokenbench and peers run back to back in one process; "
        "claims: sub, role, 3 perms, iat, nbf, exp, jti, iss, aud (refresh: + fam, ver); "
        "a row whose IQR exceeds 10% of its median is marked unreliable"
    )
    return rows, method


def run_interleaved(plan: Plan, workdir: Path, progress: Progress) -> tuple[list[RatioRow], str]:
    """The interleaved A/B comparisons in their own process; rows and a method line."""
    out = workdir / "interleaved.json"
    argv = [
        sys.executable,
        "-m",
        "benchmarks.interleaved",
        f"--pairs={plan.ab_pairs}",
        f"--repeat-ms={plan.ab_repeat_ms:g}",
        f"--json={out}",
    ]
    cwd = PROJECT_ROOT if (PROJECT_ROOT / "pyproject.toml").exists() else None
    with progress.step("token level: interleaved A/B (migration window, rejections) per format") as report:
        completed = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            raise RuntimeError(f"interleaved comparisons failed:\n{completed.stderr[-3000:]}")
        rows = msgspec.json.decode(out.read_bytes(), type=list[RatioRow])
        report(f"{len(rows)} comparisons, {plan.ab_pairs} turns each")
    method = (
        f"A and B alternate {plan.ab_pairs} times; each turn is the fastest of 3 repeats of N calls (N "
        f"calibrated to about {plan.ab_repeat_ms:g} ms per repeat); the median of the turns' ratios B/A, "
        "with its quartiles"
    )
    return rows, method
