"""The machine before a run: sample it, and with ``--settle`` wait for it to quiet down.

A shared machine's other users and a hypervisor's steal make every figure noisier; the report states both
(:func:`benchmarks.report.machine_verdict`). :func:`wait_for_quiet` reads them just before the run and can
wait a bounded time for a busy machine to settle; :func:`password_check_row` measures the one piece of
login work that is the same in every format, so the report can split login CPU into it and the rest.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass
from typing import Final

from benchmarks.plan import Plan, Progress
from benchmarks.procstat import MachineMeter, MachineShare
from benchmarks.report import busy_before
from benchmarks.results import TokenRow
from service.passwords import argon2id_hasher
from service.settings import Settings

__all__ = ["Quiet", "password_check_row", "wait_for_quiet"]

QUIET_SAMPLE_S: Final = 2.0
"""Seconds of ``/proc/stat`` behind one reading of steal and other processes' CPU."""
SETTLE_POLL_S: Final = 5.0
"""Seconds between two readings while ``--settle`` waits."""


@dataclass(frozen=True, slots=True)
class Quiet:
    """The machine just before the run, and whether ``--settle`` got it quiet."""

    share: MachineShare
    settled: bool | None  # None: the run was not asked to wait
    waited_s: float


def wait_for_quiet(settle: float, progress: Progress) -> Quiet:
    """Read the machine; with ``settle`` > 0, keep reading up to that many seconds until it is not busy.

    Busy is :func:`benchmarks.report.busy_before`: a 1-minute load average over half a process per core,
    or CPU steal or other processes' CPU over the report's limits.
    """
    label = "the machine before the run" + (f" (waiting up to {settle:g} s to settle)" if settle else "")
    with progress.step(label) as report:
        started = time.monotonic()
        while True:
            meter = MachineMeter()
            time.sleep(QUIET_SAMPLE_S)
            share = meter.read()
            load = os.getloadavg()
            reason = busy_before(load, os.cpu_count() or 1, share.steal_pct, share.others_pct)
            waited = time.monotonic() - started
            if not settle or reason is None or waited + SETTLE_POLL_S + QUIET_SAMPLE_S > settle:
                break
            time.sleep(SETTLE_POLL_S)
        report(
            f"load {load[0]:.2f}, steal {share.steal_pct:.1f} %, other processes {share.others_pct:.0f} % "
            f"of the cores: {reason or 'quiet'}" + (f" (after {waited:.0f} s)" if settle else "")
        )
    return Quiet(share, None if not settle else reason is None, waited)


def password_check_row(plan: Plan, progress: Progress) -> TokenRow:
    """One argon2id password check with the service's default parameters, alone: process CPU µs.

    A row with no format (``op="password-verify"``): the login's hash work, the same in every format. The
    report sets it beside each format's login CPU and token work (issue an access and a refresh token).
    """
    rounds = max(3, plan.token_min_rounds)
    with progress.step(f"argon2id password check alone, {rounds} rounds") as report:
        hasher = argon2id_hasher(Settings().argon2)  # the service's own hasher construction
        password = "correct horse battery staple"
        stored = hasher.hash(password)
        times = []
        for _ in range(rounds):
            started = time.process_time()  # argon2 may run its lanes in threads of this process
            hasher.verify(stored, password)
            times.append((time.process_time() - started) * 1e6)
        low, _, high = statistics.quantiles(times, n=4)
        row = TokenRow(
            format="",
            op="password-verify",
            impl="argon2id",
            kind="",
            case="ok",
            median_us=statistics.median(times),
            iqr_us=high - low,
            mean_us=statistics.mean(times),
            min_us=min(times),
            rounds=rounds,
        )
        report(f"{row.median_us / 1000:,.1f} ms CPU (IQR {row.iqr_us / 1000:,.1f} ms)")
    return row
