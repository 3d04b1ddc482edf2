"""``docs/migration.md`` is true: its table of token sizes is what the service issues today."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from formats import FormatName, Kind, ephemeral
from service.auth.roles import Role
from service.auth.sessions import SessionManager
from service.settings import Settings
from service.stores import open_stores

PAGE = Path(__file__).resolve().parents[2] / "docs" / "migration.md"


def size_rows() -> list[str]:
    """The table rows: the service's own access and refresh tokens for ``alice``, default settings."""
    rows = []
    now = datetime(2026, 12, 2, 7, 30, tzinfo=UTC)
    for name in FormatName:
        fmt = ephemeral(name, clock=lambda: now)
        settings = Settings(format=name)
        sessions = SessionManager(fmt=fmt, stores=open_stores(settings), settings=settings, clock=lambda: now)
        access = sessions.issue_access("alice", Role.USER, now=now)
        refresh = fmt.issue(
            sessions._issue_refresh(
                "alice",
                Role.USER,
                family="f" * 22,
                ver=0,
                now=now,
                ttl=timedelta(seconds=settings.refresh_ttl),
            ),
            kind=Kind.REFRESH,
        )
        rows.append(f"| `{name.value}` | {len(access)} | {len(refresh)} | `{fmt.token_label}` |")
    return rows


def test_the_size_table_is_what_the_service_issues() -> None:
    block = re.search(r"<!-- token sizes -->\n(.*?)<!-- /token sizes -->", PAGE.read_text(), re.DOTALL)
    assert block is not None
    assert block.group(1).splitlines()[2:] == size_rows()
