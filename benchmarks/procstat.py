"""CPU time of a server and every process it started, read from ``/proc`` (Linux).

The request-level benchmark reads it before and after a load window and divides by the requests served:
server CPU µs per request, whatever the load generator's own speed. granian runs its worker as a child
process, so the whole process tree counts.

:class:`MachineMeter` reads the machine around the same windows: CPU steal (a hypervisor giving the cores to
another guest) and the CPU of everything outside the benchmark's own process tree (the other users of a
shared machine), the two things that make a window's figures noisy and that the report states.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = [
    "CpuTimes",
    "MachineMeter",
    "MachineShare",
    "cpu_times",
    "descendants",
    "machine_share",
    "tree_cpu_seconds",
]

_PROC: Final = Path("/proc")
_TICKS: Final = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:  # the process exited between listing and reading
        return None
    # "pid (comm) state ppid ..." where comm may hold spaces and parentheses.
    return text.rsplit(")", 1)[1].split()


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid``."""
    children: dict[int, list[int]] = {}
    for entry in _PROC.iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None:
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        kids = children.get(todo.pop(), [])
        found.extend(kids)
        todo.extend(kids)
    return found


def tree_cpu_seconds(pid: int, *, reaped: bool = False) -> float:
    """User + system CPU seconds of ``pid`` and its live descendants.

    With ``reaped``, also the CPU of descendants that have exited and been waited for (``cutime`` and
    ``cstime``): a load generator that ran as a subprocess during a window and is gone by its end.
    """
    ticks = 0
    for p in (pid, *descendants(pid)):
        fields = _stat_fields(p)
        if fields is not None:
            ticks += int(fields[11]) + int(fields[12])  # utime, stime (stat fields 14 and 15)
            if reaped:
                ticks += int(fields[13]) + int(fields[14])  # cutime, cstime (fields 16 and 17)
    return ticks / _TICKS


# --- the machine: load average, steal, and the CPU of everything else -------------------------------------


@dataclass(frozen=True, slots=True)
class CpuTimes:
    """The machine-wide ``cpu`` line of ``/proc/stat``, in clock ticks (every core together)."""

    busy: int  # user + nice + system + irq + softirq (guest time is already inside user and nice)
    idle: int  # idle + iowait
    steal: int  # time the hypervisor gave this machine's cores to someone else

    @property
    def total(self) -> int:
        """Every tick accounted for."""
        return self.busy + self.idle + self.steal


def cpu_times(stat: str | None = None) -> CpuTimes:
    """Parse the ``cpu`` line of ``/proc/stat`` (``stat`` for a test; the live file by default)."""
    text = stat if stat is not None else (_PROC / "stat").read_text()
    first = text.split("\n", 1)[0].split()
    if first[0] != "cpu":
        raise ValueError(f"/proc/stat does not start with the cpu line: {first[:1]}")
    user, nice, system, idle, iowait, irq, softirq, steal = (int(v) for v in (first[1:9] + ["0"] * 8)[:8])
    return CpuTimes(busy=user + nice + system + irq + softirq, idle=idle + iowait, steal=steal)


@dataclass(frozen=True, slots=True)
class MachineShare:
    """What the machine did between two readings, as percentages of all its cores' time."""

    steal_pct: float
    others_pct: float  # busy CPU not spent by the process tree being measured (other users, the OS)


def machine_share(before: CpuTimes, after: CpuTimes, own_cpu_s: float) -> MachineShare:
    """Steal and the CPU of everything outside ``own_cpu_s`` (seconds of the measured process tree)."""
    total = after.total - before.total
    if total <= 0:
        return MachineShare(0.0, 0.0)
    others = after.busy - before.busy - own_cpu_s * _TICKS
    return MachineShare(
        steal_pct=100 * (after.steal - before.steal) / total, others_pct=max(0.0, 100 * others / total)
    )


class MachineMeter:
    """Reads the machine before and after a stretch of work done by the process tree of ``pid``."""

    def __init__(self, pid: int | None = None) -> None:
        self.pid = pid if pid is not None else os.getpid()
        self._before = cpu_times()
        self._own = tree_cpu_seconds(self.pid, reaped=True)

    def read(self) -> MachineShare:
        """Steal and everybody else's CPU since this meter was made (or last read); restarts the meter."""
        after, own = cpu_times(), tree_cpu_seconds(self.pid, reaped=True)
        share = machine_share(self._before, after, own - self._own)
        self._before, self._own = after, own
        return share
