"""``tokenbench bench [--quick] [--report PATH] [--json PATH] [--settle SECONDS]``: measure and report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["register"]

DEFAULT_REPORT = Path("var/bench/report.md")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``tokenbench bench``."""
    text = (
        "measure token-level verify/issue (floor, tokenbench, peers), the service over HTTP per format "
        "and token sizes; write a Markdown report with PNG charts and the raw JSON"
    )
    parser = subparsers.add_parser("bench", help="run the benchmarks and write a report", description=text)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="short windows and few rounds: under two minutes, indicative only",
    )
    parser.add_argument(
        "--report", type=Path, default=DEFAULT_REPORT, help=f"Markdown report path (default {DEFAULT_REPORT})"
    )
    parser.add_argument("--json", type=Path, help="raw results path (default: the report path with .json)")
    parser.add_argument(
        "--loadgen",
        choices=["auto", "wrk", "python"],
        default="auto",
        help="HTTP load generator: wrk if installed (auto), or the built-in Python client",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before measuring, wait up to SECONDS for a busy machine to quiet down (load average, CPU "
        "steal, other processes); the report says whether it did",
    )
    # The test suite's run: every step, the shortest windows. Not for reading numbers.
    parser.add_argument("--smoke", action="store_true", help=argparse.SUPPRESS)
    parser.set_defaults(run=_bench)


def _bench(args: argparse.Namespace) -> int:
    # Imported here: matplotlib and the benchmark machinery load only when this command runs.
    from benchmarks.loadgen import wrk_path  # noqa: PLC0415
    from benchmarks.run import PLANS, run_bench  # noqa: PLC0415

    if args.loadgen == "wrk" and wrk_path() is None:
        print("tokenbench: error: --loadgen wrk: wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    plan = PLANS["smoke" if args.smoke else "quick" if args.quick else "full"]
    report: Path = args.report
    json_path: Path = args.json or report.with_suffix(".json")
    argv = [
        *(["--smoke"] if args.smoke else ["--quick"] if args.quick else []),
        *(["--report", str(report)] if report != DEFAULT_REPORT else []),
        *(["--json", str(args.json)] if args.json else []),
        *(["--loadgen", args.loadgen] if args.loadgen != "auto" else []),
        *(["--settle", f"{args.settle:g}"] if args.settle else []),
    ]
    run_bench(
        plan,
        report=report,
        json_path=json_path,
        argv=argv,
        tool=None if args.loadgen == "auto" else args.loadgen,
        settle=args.settle,
    )
    print(f"report: {report}\nraw results: {json_path}")
    return 0
