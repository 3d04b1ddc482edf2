"""``tokenbench keys generate|rotate|retire|list``: key files under ``TOKENBENCH_KEYS_DIR/<format>/``.

``generate`` writes the first key of a ring (and refuses if the ring has one, so nobody rotates by
accident). ``rotate`` adds a next key: published and verifying on every process at its next reload, signing
from its activation time on (``--activate-after``, default
:func:`service.keyring.default_activation_delay` of ``TOKENBENCH_KEYS_RELOAD``), when the previous key
becomes verify-only. ``retire`` deletes a key (refused if nothing could sign without it): every process
refuses its tokens from its next reload on. ``list`` shows each key id, its role (next, active,
verify-only), its activation time and its file. The runbook is in ``docs/scale-out.md``.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from formats import FormatName, KeyConfigError
from formats.keys import generate_key_file, list_key_files, retire_key_file
from service.keyring import default_activation_delay
from service.settings import Settings

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``tokenbench keys``."""
    parser = subparsers.add_parser("keys", help="generate, rotate, retire and list signing/encryption keys")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    subs = {}
    for name, run, text in (
        ("generate", _generate, "write the first key of a format's ring"),
        ("rotate", _rotate, "add a next key: verifies at once, signs from its activation time"),
        ("retire", _retire, "delete a key: every process refuses its tokens from its next reload"),
        ("list", _list, "show the keys of a format's ring: next, active, verify-only"),
    ):
        sub = actions.add_parser(name, help=text, description=text)
        formats = [f.value for f in FormatName]
        sub.add_argument(
            "--format",
            choices=formats if name == "retire" else [*formats, "all"],
            help="token format (default: TOKENBENCH_FORMAT or paseto-v4-public)"
            + ("" if name == "retire" else "; 'all' for every format"),
        )
        sub.add_argument(
            "--keys-dir", type=Path, help="key directory (default: TOKENBENCH_KEYS_DIR or var/keys)"
        )
        sub.set_defaults(run=run)
        subs[name] = sub
    subs["rotate"].add_argument(
        "--activate-after",
        type=_seconds,
        metavar="SECONDS",
        help="seconds until the new key signs (default: 3 x TOKENBENCH_KEYS_RELOAD + 5, so that every "
        "process and every verifier has it first; 0 for a leaked key, see docs/scale-out.md)",
    )
    subs["retire"].add_argument(
        "--kid", required=True, help="the key id to retire (see `tokenbench keys list`)"
    )


def _seconds(value: str) -> int:
    if not value.isdigit() or int(value) > 7 * 24 * 3600:
        raise argparse.ArgumentTypeError("must be whole seconds between 0 and 604800 (a week)")
    return int(value)


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _targets(args: argparse.Namespace) -> tuple[Path, list[FormatName]]:
    keys_dir, names, _ = _context(args)
    return keys_dir, names


def _context(args: argparse.Namespace) -> tuple[Path, list[FormatName], Settings]:
    settings = Settings.from_env(os.environ)
    keys_dir: Path = args.keys_dir or settings.keys_dir
    if args.format == "all":
        return keys_dir, list(FormatName), settings
    return keys_dir, [FormatName(args.format) if args.format else settings.format], settings


def _generate(args: argparse.Namespace) -> int:
    keys_dir, names = _targets(args)
    status = 0
    for name in names:
        if list_key_files(keys_dir, name):
            print(
                f"tokenbench: error: {keys_dir / name.value} already has keys; "
                f"use `tokenbench keys rotate --format {name.value}` to add a new active key",
                file=sys.stderr,
            )
            status = 1
            continue
        key = generate_key_file(keys_dir, name)
        print(f"{name.value}: generated {key.kid} (active) in {key.path}")
    return status


def _rotate(args: argparse.Namespace) -> int:
    keys_dir, names, settings = _context(args)
    delay = (
        default_activation_delay(settings.keys_reload) if args.activate_after is None else args.activate_after
    )
    for name in names:
        old = list_key_files(keys_dir, name)
        if not old:
            raise KeyConfigError(
                f"{keys_dir / name.value}: no keys to rotate; "
                f"run `tokenbench keys generate --format {name.value}`"
            )
        activates = datetime.now(UTC) + timedelta(seconds=delay)
        key = generate_key_file(keys_dir, name, activates=activates)
        if not delay:
            print(f"{name.value}: {key.kid} signs now; {len(old)} older key(s) stay verify-only")
            continue
        signing = ", ".join(f.kid for f in old if f.active) or "no key"
        print(
            f"{name.value}: {key.kid} verifies at once and signs from {_when(key.activates)} "
            f"(in {delay} s); until then {signing} signs; {len(old)} older key(s) stay verify-only"
        )
    return 0


def _retire(args: argparse.Namespace) -> int:
    keys_dir, (name,), settings = _context(args)
    retired = retire_key_file(keys_dir, name, args.kid)
    active = ", ".join(f.kid for f in list_key_files(keys_dir, name) if f.active)
    print(
        f"{name.value}: retired {retired.kid} ({retired.role.value}); every process refuses its tokens "
        f"within TOKENBENCH_KEYS_RELOAD={settings.keys_reload} s; active: {active}"
    )
    return 0


def _list(args: argparse.Namespace) -> int:
    keys_dir, names = _targets(args)
    for name in names:
        files = list_key_files(keys_dir, name)
        if not files:
            print(f"{name.value}: no keys in {keys_dir / name.value}")
        for key in reversed(files):
            print(f"{name.value}\t{key.kid}\t{key.role.value}\t{_when(key.activates)}\t{key.path}")
    return 0
