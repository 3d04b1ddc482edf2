"""Interleaved A/B comparisons at the token level: the ratio of two verifies, robust to a busy machine.

    python -m benchmarks.interleaved [--pairs 25] [--repeat-ms 2] --json out.json

Sequential pytest-benchmark rows see different moments of a shared machine, so a 5% target cannot be
judged from two of them (issue 9's window rows gave 1.05x where an A/B run gave a tie). Here each
comparison alternates A and B ``pairs`` times; each turn takes the fastest of 3 repeats of ``number``
calls (``number`` calibrated so a repeat lasts about ``repeat_ms``), and the row holds the median of the
``pairs`` ratios B/A with its quartiles. Comparisons, per format:

* ``window``: A = verify of an issued-format access token with no accepted format, B = the same with every
  other format accepted (``formats.migration.Migration``, issue 9);
* ``reject`` ``bad-signature`` and ``wrong-kind``: A = a valid access token verified, B = a token with one
  bit of its signature flipped, or a valid refresh token, presented as an access token (issue 12).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final

import msgspec

from benchmarks.results import RatioRow
from formats import FormatName, Kind, TokenError

__all__ = ["interleaved_ratio", "measure_all"]

REPEATS: Final = 3


def _best_of(call: Callable[[], object], number: int) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        for _ in range(number):
            call()
        best = min(best, time.perf_counter() - started)
    return best / number


def _calibrate(call: Callable[[], object], repeat_s: float) -> int:
    number = 1
    while True:
        started = time.perf_counter()
        for _ in range(number):
            call()
        if time.perf_counter() - started >= repeat_s / 4 or number >= 1 << 16:
            return max(1, int(number * repeat_s / max(time.perf_counter() - started, 1e-9)))
        number *= 2


def interleaved_ratio(
    a: Callable[[], object], b: Callable[[], object], *, pairs: int, repeat_s: float
) -> tuple[list[float], float, float]:
    """The ``pairs`` ratios B/A (A then B each turn), and the seconds per call of A and of B (medians)."""
    number = _calibrate(a, repeat_s)
    ratios, a_times, b_times = [], [], []
    for _ in range(pairs):
        a_time, b_time = _best_of(a, number), _best_of(b, number)
        ratios.append(b_time / a_time)
        a_times.append(a_time)
        b_times.append(b_time)
    return ratios, statistics.median(a_times), statistics.median(b_times)


def _row(fmt: FormatName, comparison: str, case: str, measured: tuple[list[float], float, float]) -> RatioRow:
    ratios, a_s, b_s = measured
    q1, median, q3 = statistics.quantiles(ratios, n=4, method="inclusive")
    return RatioRow(
        format=fmt.value,
        comparison=comparison,
        case=case,
        median=median,
        q1=q1,
        q3=q3,
        pairs=len(ratios),
        a_us=a_s * 1e6,
        b_us=b_s * 1e6,
    )


def _rejecting(verify: Callable[[], object]) -> Callable[[], object]:
    def reject() -> object:
        try:
            verify()
        except TokenError as exc:
            return exc.code
        raise AssertionError("an invalid token verified")

    return reject


def measure_all(*, pairs: int, repeat_s: float) -> Iterator[RatioRow]:
    """Every comparison of every format, format by format."""
    from benchmarks.bench_tokens import rejected_token, subject_of, window_of  # noqa: PLC0415 - pytest

    for fmt in FormatName:
        subject = subject_of(fmt)
        window = window_of(fmt)

        valid = functools.partial(subject.fmt.verify, subject.access, kind=Kind.ACCESS)
        accepting = functools.partial(window.verify, subject.access, kind=Kind.ACCESS)
        yield _row(fmt, "window", "", interleaved_ratio(valid, accepting, pairs=pairs, repeat_s=repeat_s))
        for case in ("bad-signature", "wrong-kind"):
            token = rejected_token(subject, case)
            reject = _rejecting(functools.partial(subject.fmt.verify, token, kind=Kind.ACCESS))
            yield _row(fmt, "reject", case, interleaved_ratio(valid, reject, pairs=pairs, repeat_s=repeat_s))


def main(argv: list[str] | None = None) -> int:
    """Measure every comparison; print one line each, and write the rows as JSON with ``--json``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.interleaved", description=__doc__)
    parser.add_argument("--pairs", type=int, default=25)
    parser.add_argument("--repeat-ms", type=float, default=2.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    rows = []
    for row in measure_all(pairs=args.pairs, repeat_s=args.repeat_ms / 1000):
        rows.append(row)
        label = f"{row.format} {row.comparison} {row.case}".rstrip()
        print(
            f"{label:<40} B/A median {row.median:.3f} (quartiles {row.q1:.3f}-{row.q3:.3f}), "
            f"A {row.a_us:.1f} µs, B {row.b_us:.1f} µs",
            flush=True,
        )
    if args.json:
        args.json.write_bytes(msgspec.json.encode(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
