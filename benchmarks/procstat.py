"""CPU time of a server and every process it started, read from ``/proc`` (Linux).

The request-level benchmark reads it before and after a load window and divides by the requests served:
server CPU µs per request, whatever the load generator's own speed. granian runs its worker as a child
process, so the whole process tree counts.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

__all__ = ["descendants", "tree_cpu_seconds"]

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


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its live descendants."""
    ticks = 0
    for p in (pid, *descendants(pid)):
        fields = _stat_fields(p)
        if fields is not None:
            ticks += int(fields[11]) + int(fields[12])  # utime, stime (stat fields 14 and 15)
    return ticks / _TICKS
