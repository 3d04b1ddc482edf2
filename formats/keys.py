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
from formats.errors import KeyConfigError
from formats.registry import FORMATS

__all__ = ["KeyFile", "generate_key_file", "list_key_files", "refuse_shared_key_material"]


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


def refuse_shared_key_material(keys_dir: Path, name: FormatName | str) -> None:
    """Refuse a ring of ``name`` whose secret bytes are also a key of another format in ``keys_dir``.

    The same 32 bytes as an HS256 secret and a v4.local key (or a P-256 scalar, or an Ed25519 seed) tie the
    formats together: recovering or misusing the key in one breaks the other (catalog
    CROSS-FORMAT-KEY-REUSE; PASETO "key = material + parameters"). A secret that equals another format's
    public key (an Ed25519 public key's 32 raw bytes as the HS256 secret after a format flag flip, catalog
    JWT-KEYCONF-ES-HS) is refused too: its bytes look as random as a secret's, so only the keys beside it can
    tell. Other formats' unreadable files are their own start-up's problem and are skipped here.
    """
    fmt = FORMATS[FormatName(name)]
    ours: dict[bytes, Path] = {}
    for path in key_files(keys_dir, fmt.name, fmt.key_file_suffix):
        material = fmt.key_material_of(read_key_text(path), source=str(path))
        if material is not None:
            ours[material] = path
    for other_name, other in FORMATS.items():
        if other_name == fmt.name:
            continue
        for path in key_files(keys_dir, other_name, other.key_file_suffix):
            try:
                text = read_key_text(path)
                material = other.key_material_of(text, source=str(path))
                public = other.key_public_bytes_of(text, source=str(path))
            except KeyConfigError:
                continue
            if material is not None and material in ours:
                raise KeyConfigError(
                    f"{ours[material]}: holds the same key bytes as {path}; a key belongs to one format, "
                    f"so generate a separate one with `tokenbench keys rotate --format {fmt.name.value}` "
                    "and delete the shared file"
                )
            if public is not None and public in ours:
                raise KeyConfigError(
                    f"{ours[public]}: holds the public key of {path} as a secret (anyone can read a public "
                    f"key, so anyone could forge with it); generate a secret with "
                    f"`tokenbench keys rotate --format {fmt.name.value}` and delete this file"
                )
