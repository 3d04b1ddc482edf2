"""``tokenbench inspect TOKEN``: what a token carries, read without a key (:func:`formats.inspect.explain`).

Pass ``-`` to read the token from standard input (keeps it out of shell history and ``ps``). ``--json``
prints the report as JSON. Nothing is verified: the report says so on its first note.
"""

from __future__ import annotations

import argparse
import json
import sys

import msgspec

from formats.inspect import InspectError, TokenReport, explain

__all__ = ["register", "render"]

FROM_STDIN = "-"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``tokenbench inspect``."""
    parser = subparsers.add_parser(
        "inspect", help="explain a token: format, header/footer, claims (or 'encrypted'), sizes, key id"
    )
    parser.add_argument("token", help="the token, or - to read it from standard input")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(run=_inspect)


def _inspect(args: argparse.Namespace) -> int:
    token: str = sys.stdin.readline() if args.token == FROM_STDIN else args.token
    try:
        report = explain(token)
    except InspectError as exc:
        print(f"tokenbench: error: not a tokenbench token: {exc}", file=sys.stderr)
        return 1
    print(msgspec.json.encode(report).decode() if args.json else render(report))
    return 0


def render(report: TokenReport) -> str:
    """The report as aligned text lines."""
    lines = [
        f"format      {report.format.value}",
        f"kind        {report.kind.value if report.kind else 'bound by implicit assertion (not visible)'}",
        f"key id      {report.key_id or '-'}",
    ]
    if report.header is not None:
        lines.append(f"header      {json.dumps(report.header)}")
    if report.footer is not None:
        lines.append(f"footer      {json.dumps(report.footer)}")
    if report.claims == "encrypted":
        lines.append("claims      encrypted (v4.local: only the key holder can read them)")
    else:
        lines.append(f"claims      {json.dumps(report.claims, indent=None)}")
    lines.extend(f"{name:<11} {when}" for name, when in report.times.items())
    sizes = ", ".join(f"{part.name} {part.decoded_bytes}" for part in report.parts)
    lines.append(f"size        {report.total_bytes} bytes on the wire (decoded: {sizes})")
    lines.extend(f"note        {note}" for note in report.notes)
    return "\n".join(lines)
