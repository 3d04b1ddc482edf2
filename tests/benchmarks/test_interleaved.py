"""The interleaved A/B comparisons run for every format and case (no timing is asserted)."""

from __future__ import annotations

from benchmarks.interleaved import interleaved_ratio, measure_all
from benchmarks.report import FORMATS


def test_every_format_gets_a_window_and_two_rejection_comparisons() -> None:
    rows = list(measure_all(pairs=2, repeat_s=0.0002))
    assert [(r.format, r.comparison, r.case) for r in rows] == [
        (fmt, comparison, case)
        for fmt in FORMATS
        for comparison, case in (("window", ""), ("reject", "bad-signature"), ("reject", "wrong-kind"))
    ]
    for row in rows:
        assert row.pairs == 2
        assert row.q1 <= row.median <= row.q3
        assert row.a_us > 0
        assert row.b_us > 0


def test_a_comparison_alternates_a_and_b_once_per_turn() -> None:
    calls: list[str] = []

    def a() -> None:
        calls.append("a")

    def b() -> None:
        calls.append("b")

    ratios, _, _ = interleaved_ratio(a, b, pairs=3, repeat_s=0)
    assert len(ratios) == 3
    blocks = [c for i, c in enumerate(calls) if i == 0 or calls[i - 1] != c]
    assert blocks == ["a", "b", "a", "b", "a", "b"]  # calibration runs A, then A and B take turns
