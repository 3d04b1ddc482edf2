"""Real tokens of every format, taken apart: the examples and sizes of ``docs/formats.md``.

Run it with ``.venv/bin/python docs/examples/formats_anatomy.py``; it prints the Markdown that the page
embeds between its ``formats_anatomy.py`` markers. Keys are fresh on every run, so
tokens and key ids change, but with the fixed claims below every length stays the same:
``tests/formats/test_docs_formats.py`` runs this script and checks the page still matches it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from formats import FORMATS, Claims, FormatName, Kind, TokenFormat
from formats.inspect import TokenReport, explain

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

ACCESS = Claims(
    sub="alice",
    role="user",
    perms=("profile:read", "sessions:revoke"),
    iat=NOW,
    nbf=NOW,
    exp=NOW + timedelta(minutes=15),
    jti="m3Vq8Zr1TxW0bYk2Lp9sDg",
)
"""What the service issues to the demo user ``alice`` with its default settings (no issuer or audience
configured): sub is the user name, the ``user`` role and its two permissions, 15 minutes, and a ``jti``
of 16 random bytes in base64url (``secrets.token_urlsafe(16)``, as ``service/auth/sessions.py`` makes
it). The sizes are those of ``benchmarks/sizes.py``, which issues through the service itself
(``tests/benchmarks/test_sizes.py`` checks the page against it)."""

REFRESH = Claims(
    sub=ACCESS.sub,
    role=ACCESS.role,
    iat=NOW,
    nbf=NOW,
    exp=NOW + timedelta(days=7),
    jti="Qe7Hn2Ks5Wd8Yb1Rt4Uf0A",
    fam="Zc6Jm9Pv3Xa0Gh5Nq2Lw8E",
    ver=0,
)
"""The matching refresh token, as login issues it: same subject and role, no permissions (an access
token carries them), a 7-day lifetime, a session family (16 random bytes) and its rotation count."""


def compact(value: Any) -> str:
    """JSON on one line, as a token carries it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def anatomy(name: FormatName, fmt: TokenFormat, token: str, report: TokenReport) -> list[str]:
    """The Markdown section of one format: the token, its parts and what it shows without a key."""
    lines = [
        f"### `{name}`",
        "",
        f"Access token, {report.total_bytes} bytes:",
        "",
        "```text",
        token,
        "```",
        "",
        "| part | bytes in the token | bytes decoded |",
        "|---|---:|---:|",
    ]
    for part in report.parts:
        wire = "" if part.wire_bytes is None else str(part.wire_bytes)
        lines.append(f"| {part.name} | {wire} | {part.decoded_bytes} |")
    lines += ["", "Readable without a key (`formats.inspect.explain`):", "", "```text"]
    if report.header is not None:
        lines.append(f"header: {compact(report.header)}")
    if report.footer is not None:
        lines.append(f"footer: {compact(report.footer)}")
    lines.append(f"claims: {compact(report.claims)}")
    lines.append(f"key id: {report.key_id}  (the ring's active key: {report.key_id == fmt.active_kid})")
    lines += ["```", ""]
    return lines


def main() -> str:
    """Issue one access and one refresh token per format and describe them as Markdown."""
    sections: list[str] = []
    sizes = ["| format | access token | refresh token |", "|---|---:|---:|"]
    published: dict[str, Any] = {}
    for name in FormatName:
        # Two keys, as after one rotation: the newer signs, the older still verifies and is published.
        cls = FORMATS[name]
        keys = [("retiring", cls.generate_key_text()), ("active", cls.generate_key_text())]
        fmt = cls.from_key_texts(keys, clock=lambda: NOW)
        access = fmt.issue(ACCESS, kind=Kind.ACCESS)
        refresh = fmt.issue(REFRESH, kind=Kind.REFRESH)
        assert fmt.verify(access, kind=Kind.ACCESS) == ACCESS
        assert fmt.verify(refresh, kind=Kind.REFRESH) == REFRESH
        sections += anatomy(name, fmt, access, explain(access))
        sizes.append(f"| `{name}` | {len(access)} | {len(refresh)} |")
        published.update({f"`/.well-known/{doc}` ({name})": body for doc, body in fmt.well_known().items()})
    lines = ["#### Sizes (bytes, the claims above)", "", *sizes, "", *sections]
    for document, body in published.items():
        lines += [f"#### {document}", "", "```json", json.dumps(body, indent=2), "```", ""]
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    print(main(), end="")
