"""How long and how hard a ``tokenbench bench`` run measures (:class:`Plan`), and its progress lines.

``full`` makes the report in ``docs/benchmarks.md``, ``quick`` runs in a few minutes (CI and a first
look), ``smoke`` is the shortest run that still exercises every step (the test suite uses it).
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Final, TextIO

from benchmarks.loadgen import Tool

__all__ = ["PLANS", "Plan", "Progress"]


@dataclass(frozen=True, slots=True)
class Plan:
    """How long and how hard a run measures."""

    mode: str
    token_max_time: float  # seconds per token-level benchmark
    token_min_rounds: int
    window_s: float  # one load window
    warmup_requests: int  # sequential requests before a GET window (not measured)
    connections: int
    login_clients: int = 8
    loadgen: Tool | None = None  # None: wrk when installed, else the Python client
    repeats: int = 1  # windows per row; the row holds their medians
    token_passes: int = 1  # runs of the token-level suite; each row is the median pass
    ab_pairs: int = 25  # interleaved A/B comparisons (benchmarks.interleaved): turns per comparison
    ab_repeat_ms: float = 2.0  # and the length of one repeat of a turn


PLANS: Final = {
    "full": Plan(
        "full",
        token_max_time=1.0,
        token_min_rounds=20,
        window_s=5,
        warmup_requests=500,
        connections=8,
        repeats=3,
        token_passes=3,
    ),
    "quick": Plan(
        "quick",
        token_max_time=0.1,
        token_min_rounds=5,
        window_s=2,
        warmup_requests=200,
        connections=8,
        ab_pairs=15,
        ab_repeat_ms=1.0,
    ),
    # Every step with the least time in each: the Python client, whose windows can be shorter than wrk's 1 s.
    "smoke": Plan(
        "smoke",
        token_max_time=0.01,
        token_min_rounds=3,
        window_s=0.5,
        warmup_requests=30,
        connections=4,
        loadgen="python",
        ab_pairs=3,
        ab_repeat_ms=0.2,
    ),
}


class Progress:
    """One line per step on a stream: ``[ 3/27  0:41] what … result``."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        self.started = time.monotonic()

    @contextlib.contextmanager
    def step(self, label: str) -> Iterator[Callable[[str], None]]:
        """Announce ``label``; the block may call the yielded function with a one-line result."""
        self.done += 1
        elapsed = int(time.monotonic() - self.started)
        counter = f"[{self.done:>2}/{self.total}  {elapsed // 60}:{elapsed % 60:02d}]"
        print(f"{counter} {label} …", file=self.stream, flush=True)
        outcome: list[str] = []
        yield outcome.append
        if outcome:
            print(f"{' ' * len(counter)} → {outcome[-1]}", file=self.stream, flush=True)
