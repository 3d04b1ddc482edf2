"""``tokenbench attacks``: run the catalog against the service, format by format, and print the matrix.

Without ``--url`` each format's service is started in-process on temporary storage
(:mod:`service.attacks.inprocess`) and the start-up attacks start their own. With ``--url`` the suite
attacks a running service (its format read from ``GET /health``) as the user given by ``--username`` and
a password on standard input; ``--keys-dir`` hands it the service's key files, modelling a leaked or
co-issuer key (without them the rows that need a key are "not run"). Exit status 1 if any attack got
through or the service answered 5xx, 2 on a usage or connection problem.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Final

from formats import FormatName

__all__ = ["DOC_COMMAND", "register"]

DOC_COMMAND: Final = ".venv/bin/tokenbench attacks --format all --markdown docs/failure-modes.md"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``tokenbench attacks``."""
    parser = subparsers.add_parser(
        "attacks", help="run the attack catalog against the service and print the failure-mode matrix"
    )
    parser.add_argument(
        "--format",
        default="all",
        choices=["all", *(f.value for f in FormatName)],
        help="format to attack in-process (default: every format)",
    )
    parser.add_argument("--url", help="attack a running service instead (its format comes from /health)")
    parser.add_argument("--username", help="with --url: the user to log in as (password on stdin)")
    parser.add_argument(
        "--keys-dir", type=Path, help="with --url: the service's key directory (a leaked key)"
    )
    parser.add_argument(
        "--refresh-grace", type=int, default=10, help="with --url: the service's TOKENBENCH_REFRESH_GRACE"
    )
    parser.add_argument("--markdown", type=Path, metavar="PATH", help="write the matrix page here")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write every cell and variant as JSON here")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    # Imported here: the attack suite (forgers, in-process services, the catalog) loads only when this
    # command runs, never for `tokenbench serve` (tests/formats/test_layering.py checks it).
    import httpx  # noqa: PLC0415

    from service.attacks.matrix import render_json, render_markdown  # noqa: PLC0415
    from service.attacks.runner import HarnessError  # noqa: PLC0415
    from service.attacks.suite import render_text, run_in_process, run_remote  # noqa: PLC0415

    try:
        if args.url:
            if not args.username:
                print("tokenbench: error: --url needs --username (password on stdin)", file=sys.stderr)
                return 2
            password = sys.stdin.readline().rstrip("\r\n")
            report = run_remote(
                args.url,
                username=args.username,
                password=password,
                keys_dir=args.keys_dir,
                refresh_grace=args.refresh_grace,
            )
        else:
            names = list(FormatName) if args.format == "all" else [FormatName(args.format)]
            report = run_in_process(names)
    except (HarnessError, httpx.HTTPError) as exc:
        print(f"tokenbench: error: {exc}", file=sys.stderr)
        return 2
    print(render_text(report))
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(render_markdown(report, command=DOC_COMMAND), encoding="utf-8")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(render_json(report), encoding="utf-8")
    return 1 if report.failed else 0
