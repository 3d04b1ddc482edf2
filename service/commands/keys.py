"""``tokenbench keys generate|rotate|list|public``: key files under ``TOKENBENCH_KEYS_DIR/<format>/``.

``generate`` writes the first key of a ring (and refuses if the ring has one, so nobody rotates by
accident); ``rotate`` adds a new active key and keeps the old ones verify-only; ``list`` shows each key
id, whether it signs, and its file. Retire an old key by deleting its file once no token it signed can
still be valid (the refresh lifetime after the rotation). ``public`` replaces each private key file of an
asymmetric format by its public key, for a format that is only accepted (docs/migration.md).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from formats import FormatName, KeyConfigError
from formats.keys import generate_key_file, list_key_files
from formats.migration import public_key_text
from service.settings import Settings

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``tokenbench keys``."""
    parser = subparsers.add_parser("keys", help="generate, rotate and list signing/encryption keys")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, run, text in (
        ("generate", _generate, "write the first key of a format's ring"),
        ("rotate", _rotate, "add a new active key; older keys stay verify-only"),
        ("list", _list, "show the key ids of a format's ring, active key last"),
        ("public", _public, "replace each private key file by its public key (a format only accepted)"),
    ):
        sub = actions.add_parser(name, help=text, description=text)
        sub.add_argument(
            "--format",
            choices=[*(f.value for f in FormatName), "all"],
            help="token format (default: TOKENBENCH_FORMAT or paseto-v4-public); 'all' for every format",
        )
        sub.add_argument(
            "--keys-dir", type=Path, help="key directory (default: TOKENBENCH_KEYS_DIR or var/keys)"
        )
        sub.set_defaults(run=run)


def _targets(args: argparse.Namespace) -> tuple[Path, list[FormatName]]:
    settings = Settings.from_env(os.environ)
    keys_dir: Path = args.keys_dir or settings.keys_dir
    if args.format == "all":
        return keys_dir, list(FormatName)
    return keys_dir, [FormatName(args.format) if args.format else settings.format]


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
    keys_dir, names = _targets(args)
    for name in names:
        old = list_key_files(keys_dir, name)
        if not old:
            raise KeyConfigError(
                f"{keys_dir / name.value}: no keys to rotate; "
                f"run `tokenbench keys generate --format {name.value}`"
            )
        key = generate_key_file(keys_dir, name)
        print(f"{name.value}: {key.kid} is now active; {len(old)} older key(s) stay verify-only")
    return 0


def _list(args: argparse.Namespace) -> int:
    keys_dir, names = _targets(args)
    for name in names:
        files = list_key_files(keys_dir, name)
        if not files:
            print(f"{name.value}: no keys in {keys_dir / name.value}")
        for key in reversed(files):
            role = "active" if key.active else "verify-only"
            print(f"{name.value}\t{key.kid}\t{role}\t{key.path}")
    return 0


def _public(args: argparse.Namespace) -> int:
    keys_dir, names = _targets(args)
    for name in names:
        files = list_key_files(keys_dir, name)
        if not files:
            raise KeyConfigError(f"{keys_dir / name.value}: no keys")
        replaced = 0
        for key in files:
            text = key.path.read_text(encoding="utf-8").strip()
            public = public_key_text(name, text, source=str(key.path))
            if public is None:
                raise KeyConfigError(
                    f"{name.value} is symmetric: its one key verifies and signs alike, so it has no public "
                    "half; an accepted symmetric format keeps its secret key"
                )
            if public == text:
                continue
            temporary = key.path.with_name(f".{key.path.name}.tmp")
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(public + "\n")
            os.replace(temporary, key.path)
            replaced += 1
            print(f"{name.value}: {key.kid} is now public only in {key.path}")
        kept = len(files) - replaced
        print(f"{name.value}: {replaced} key file(s) replaced by their public key, {kept} already were")
    return 0
