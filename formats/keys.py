"""Key files on disk: generate, rotate and list, for the CLI and for development start-up.

One key per file in ``<keys_dir>/<format>/``: JWK JSON (``.jwk``) for JWT, PASERK text (``.paserk``) for
PASETO. The newest file (names start with a UTC timestamp) is the active key; older files are verify-only
until deleted. ``rotate`` is ``generate`` on a ring that already has keys: the new key signs, the old ones
keep verifying.
"""

from __future__ import annotations

from pathlib import Path

from formats._ring import KeyFile, key_files, read_key_text, write_key_file
from formats.base import FormatName
from formats.registry import FORMATS

__all__ = ["KeyFile", "generate_key_file", "list_key_files"]


def generate_key_file(keys_dir: Path, name: FormatName | str) -> KeyFile:
    """Write a new secret key for ``name``; it becomes the active key of the ring."""
    fmt = FORMATS[FormatName(name)]
    text = fmt.generate_key_text()
    kid = fmt.key_id_of(text, source="<generated>")
    path = write_key_file(keys_dir, fmt.name, fmt.key_file_suffix, text, kid)
    return KeyFile(path=path, kid=kid, active=True)


def list_key_files(keys_dir: Path, name: FormatName | str) -> list[KeyFile]:
    """The key files of ``name``, oldest first; the last one is active. Raises KeyConfigError if unusable."""
    fmt = FORMATS[FormatName(name)]
    paths = key_files(keys_dir, fmt.name, fmt.key_file_suffix)
    return [
        KeyFile(path=p, kid=fmt.key_id_of(read_key_text(p), source=str(p)), active=i == len(paths) - 1)
        for i, p in enumerate(paths)
    ]
