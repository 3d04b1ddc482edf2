"""Files that hold secrets: the SQLite database (password hashes, sealed refresh tokens) and the key files.

They are created readable by their owner only (0600), and ``production`` refuses to start while another
local user can read one (mode bits for group or others), naming the file and the ``chmod`` that fixes it.
Key files are written 0600 by :func:`formats._ring.write_key_file`; the database is created here, before
SQLite opens it, so its ``-wal`` and ``-shm`` files, which SQLite creates with the database's own mode,
are 0600 too.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Final

__all__ = ["SQLITE_SIDE_FILES", "create_owner_only", "readable_by_others", "refusal"]

SQLITE_SIDE_FILES: Final = ("-wal", "-shm", "-journal")
"""What SQLite keeps next to a database file; each holds pages of the database."""

_OTHERS: Final = stat.S_IRWXG | stat.S_IRWXO


def create_owner_only(path: Path) -> None:
    """Create ``path`` (and its missing parents, 0700) as an empty 0600 file unless it exists already."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def readable_by_others(paths: Iterable[Path]) -> list[Path]:
    """Those of ``paths`` that exist and grant any access to group or others."""
    found = []
    for path in paths:
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            continue
        if mode & _OTHERS:
            found.append(path)
    return found


def refusal(paths: list[Path], what: str) -> str:
    """The one-line message refusing ``paths``: which files, their modes, and the fix."""
    shown = ", ".join(f"{path} (mode {stat.S_IMODE(path.stat().st_mode):04o})" for path in paths)
    return (
        f"{shown}: {what} readable by group or others and TOKENBENCH_ENV=production; "
        f"run `chmod 600 {' '.join(str(p) for p in paths)}`"
    )
