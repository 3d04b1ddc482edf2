"""``docs/migration.md`` is true: its table of token sizes is what the service issues today.

The sizes come from the one source every page uses, ``benchmarks/sizes.py`` (the service's own login code,
default settings); ``tests/benchmarks/test_sizes.py`` checks the running service against the same source.
"""

from __future__ import annotations

import re
from pathlib import Path

from benchmarks.sizes import token_sizes
from formats import FormatName, ephemeral

PAGE = Path(__file__).resolve().parents[2] / "docs" / "migration.md"


def size_rows() -> list[str]:
    """The table rows: the service's own access and refresh tokens for ``alice``, default settings."""
    rows = []
    for row in token_sizes():
        label = ephemeral(FormatName(row.format)).token_label
        rows.append(f"| `{row.format}` | {row.access_bytes} | {row.refresh_bytes} | `{label}` |")
    return rows


def test_the_size_table_is_what_the_service_issues() -> None:
    block = re.search(r"<!-- token sizes -->\n(.*?)<!-- /token sizes -->", PAGE.read_text(), re.DOTALL)
    assert block is not None
    assert block.group(1).splitlines()[2:] == size_rows()
