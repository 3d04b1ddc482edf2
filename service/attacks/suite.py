"""Run the attack catalog: in-process against every format, or against a running service; the terminal view.

``tokenbench attacks`` (:mod:`service.attacks.cli`) calls these; the tests call them directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Final

import httpx

from formats import FormatName
from service.attacks.catalog import ATTACKS
from service.attacks.inprocess import in_process_service
from service.attacks.matrix import (
    SHORT,
    Report,
    Status,
    cell_status,
    failures,
    summary,
)
from service.attacks.migration import cell_text, run_migration
from service.attacks.model import Attack
from service.attacks.runner import Cell, JkuListener, read_active_key, run_format
from service.attacks.target import ServiceTarget

__all__ = ["IN_PROCESS", "render_text", "run_in_process", "run_remote"]

TERSE: Final = {
    Status.ACCEPTED: "ACCEPTED",
    Status.ERROR: "ERROR",
    Status.UNEXPECTED: "unexpected",
    Status.NOT_RUN: "not run",
    Status.STRUCTURAL: "n/a structural",
    Status.DEPLOYMENT: "n/a deployment",
    Status.POLICY: "policy",
    Status.REJECTED_AND_REFUSED: "401 + start-up",
    Status.REJECTED: "401",
    Status.REFUSED: "start-up",
    Status.HELD: "held",
}
IN_PROCESS: Final = "started in-process per format on temporary storage, issuer and audience configured"


def run_in_process(names: Sequence[FormatName], attacks: Sequence[Attack] = ATTACKS) -> Report:
    """Start each format's service in-process and run ``attacks`` against it.

    With more than one format (and the full catalog), also the migration window's rows for every ordered
    pair of them (:mod:`service.attacks.migration`).
    """
    cells: dict[tuple[str, FormatName], Cell] = {}
    jku = JkuListener()
    try:
        for name in names:
            with in_process_service(name) as service:
                target = ServiceTarget(
                    service.client,
                    username=service.username,
                    password=service.password,
                    refresh_grace=service.settings.refresh_grace,
                    shift=service.clock.advance,
                    lifetimes=(service.settings.refresh_ttl, service.settings.session_max_age),
                )
                key = read_active_key(service.settings.keys_dir, name)
                found = run_format(
                    name,
                    attacks,
                    target=target,
                    username=service.username,
                    key=key,
                    jku=jku,
                    operator=service.operator,
                )
            cells.update({(attack_id, name): cell for attack_id, cell in found.items()})
    finally:
        jku.close()
    migration = run_migration(names) if len(names) > 1 and tuple(attacks) == ATTACKS else None
    return Report(
        target=IN_PROCESS, formats=tuple(names), attacks=tuple(attacks), cells=cells, migration=migration
    )


def run_remote(
    url: str,
    *,
    username: str,
    password: str,
    keys_dir: Path | None,
    refresh_grace: int,
    attacks: Sequence[Attack] = ATTACKS,
) -> Report:
    """Attack the running service at ``url``."""
    jku = JkuListener()
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            target = ServiceTarget(client, username=username, password=password, refresh_grace=refresh_grace)
            name = FormatName(target.health()["format"])
            key = read_active_key(keys_dir, name) if keys_dir is not None else None
            found = run_format(
                name, attacks, target=target, username=username, key=key, jku=jku, startup=False
            )
    finally:
        jku.close()
    cells = {(attack_id, name): cell for attack_id, cell in found.items()}
    return Report(target=url, formats=(name,), attacks=tuple(attacks), cells=cells)


def render_text(report: Report) -> str:
    """The matrix for a terminal: one line per row, then the summary and anything that got through."""
    names = report.formats
    width = max(len(a.id) for a in report.attacks)
    lines = [f"{'attack':<{width}}  " + "  ".join(f"{SHORT[n]:<14}" for n in names)]
    for attack in report.attacks:
        statuses = [TERSE[cell_status(report.cell(attack, n))] for n in names]
        lines.append(f"{attack.id:<{width}}  " + "  ".join(f"{s[:14]:<14}" for s in statuses))
    if report.migration is not None:
        lines.append("")
        for old, new in report.migration.pairs:
            texts = [cell_text(report.migration.cells[(a.id, old, new)]) for a in report.migration.attacks]
            held = all(not text.startswith(("**", "unexpected")) for text in texts)
            lines.append(f"migration {old.value} -> {new.value}: " + ("held" if held else "; ".join(texts)))
    lines.append("")
    for name, counts in summary(report).items():
        shown = ", ".join(f"{status.value}: {count}" for status, count in counts.items() if count)
        lines.append(f"{name.value}: {shown}")
    got_through = list(failures(report))
    lines.append("")
    lines.append("GOT THROUGH:" if got_through else "No attack got through.")
    lines += [f"  {line}" for line in got_through]
    return "\n".join(lines)
