"""The ``tokenbench`` command line: one ``register(subparsers)`` function per command group.

Adding a command group is one import and one line in :data:`REGISTRARS`::

    from service.attacks.cli import register as register_attacks
    REGISTRARS = (..., register_attacks)

A registrar adds its sub-parser(s) and sets ``run`` on each: a function ``(args) -> int`` returning the
exit status. Settings come from the environment once, in the command that needs them
(:meth:`service.settings.Settings.from_env`); a bad value is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from typing import TypeAlias

from benchmarks.cli import register as register_bench
from formats import KeyConfigError
from service.attacks.cli import register as register_attacks
from service.commands.inspect import register as register_inspect
from service.commands.keys import register as register_keys
from service.commands.serve import register as register_serve
from service.commands.users import register as register_users
from service.settings import SettingsError

__all__ = ["REGISTRARS", "Registrar", "build_parser", "main"]

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
Registrar: TypeAlias = Callable[[Subparsers], None]
"""Adds one command (or group) to the ``tokenbench`` parser and sets ``run`` on its parser(s)."""

REGISTRARS: tuple[Registrar, ...] = (
    register_serve,
    register_users,
    register_keys,
    register_inspect,
    register_attacks,
    register_bench,
)


def build_parser() -> argparse.ArgumentParser:
    """The full ``tokenbench`` parser with every registered command."""
    parser = argparse.ArgumentParser(
        prog="tokenbench",
        description="One authentication service on JWT and PASETO v4: serve it, attack it, benchmark it.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for register in REGISTRARS:
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tokenbench`` script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _log_to_stderr()
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except (SettingsError, KeyConfigError) as exc:
        print(f"tokenbench: error: {exc}", file=sys.stderr)
        return 2


def _log_to_stderr() -> None:
    """Warnings of the ``tokenbench`` logger (e.g. a generated development key) as one stderr line each."""
    logger = logging.getLogger("tokenbench")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("tokenbench: %(levelname)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


if __name__ == "__main__":  # pragma: no cover - `python -m service.cli`
    sys.exit(main())
