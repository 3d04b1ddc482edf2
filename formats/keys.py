"""Key files on disk: generate, rotate, retire and list, for the CLI and for development start-up.

One key per file in ``<keys_dir>/<format>/``: JWK JSON (``.jwk``) for JWT, PASERK text (``.paserk``) for
PASETO. File names start with the key's UTC activation time; the newest key whose time has come is the
active key, newer ones are next keys (verifying, not yet signing), older ones verify-only until retired.
``rotate`` is ``generate`` on a ring that already has keys, with an activation time in the future.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from formats._ring import (
    KeyFile,
    KeyRole,
    activation_of,
    directory_signature,
    key_files,
    read_key_text,
    write_key_file,
)
from formats.base import Clock, FormatName
from formats.errors import KeyConfigError
from formats.registry import FORMATS

__all__ = [
    "KeyFile",
    "KeyRole",
    "generate_key_file",
    "key_directory_signature",
    "list_key_files",
    "read_key_text",
    "refuse_shared_key_material",
    "retire_key_file",
]


def _now() -> datetime:
    return datetime.now(UTC)


def generate_key_file(
    keys_dir: Path, name: FormatName | str, *, activates: datetime | None = None
) -> KeyFile:
    """Write a new secret key for ``name`` that signs from ``activates`` on (default: now)."""
    fmt = FORMATS[FormatName(name)]
    text = fmt.generate_key_text()
    kid = fmt.key_id_of(text, source="<generated>")
    path = write_key_file(keys_dir, fmt.name, fmt.key_file_suffix, text, kid, activates=activates)
    moment = activation_of(path)
    future = moment is not None and moment > _now()
    return KeyFile(
        path=path,
        kid=kid,
        active=not future,
        role=KeyRole.NEXT if future else KeyRole.ACTIVE,
        activates=moment,
    )


def list_key_files(keys_dir: Path, name: FormatName | str, *, clock: Clock = _now) -> list[KeyFile]:
    """The key files of ``name``, oldest first, each with its role now. Raises KeyConfigError if unusable.

    The roles follow the ring's rule: the last key whose activation time has come is active, later ones
    are next, earlier ones verify-only.
    """
    fmt = FORMATS[FormatName(name)]
    paths = key_files(keys_dir, fmt.name, fmt.key_file_suffix)
    kids = [fmt.key_id_of(read_key_text(p), source=str(p)) for p in paths]
    times = [activation_of(p) for p in paths]
    now = clock()
    due = [i for i, moment in enumerate(times) if moment is None or moment <= now]
    active = due[-1] if due else -1
    return [
        KeyFile(
            path=p,
            kid=kid,
            active=i == active,
            role=KeyRole.ACTIVE if i == active else KeyRole.NEXT if i > active else KeyRole.VERIFY_ONLY,
            activates=moment,
        )
        for i, (p, kid, moment) in enumerate(zip(paths, kids, times, strict=True))
    ]


def retire_key_file(keys_dir: Path, name: FormatName | str, kid: str, *, clock: Clock = _now) -> KeyFile:
    """Delete the key file of ``kid``; refused when no key that can sign now would be left.

    Every process that reads ``keys_dir`` drops the key at its next reload, and refuses the tokens it
    signed from then on (the leaked-key emergency).
    """
    fmt = FORMATS[FormatName(name)]
    files = list_key_files(keys_dir, name, clock=clock)
    matches = [f for f in files if f.kid == kid]
    if not matches:
        known = ", ".join(f.kid for f in files) or "none"
        raise KeyConfigError(f"{keys_dir / fmt.name.value}: no key {kid!r} (keys: {known})")
    (retired,) = matches
    rest = [f for f in files if f.kid != kid]
    if not rest:
        raise KeyConfigError(
            f"{retired.path}: {kid} is the only key of {fmt.name.value} and cannot be retired; "
            f"run `tokenbench keys rotate --format {fmt.name.value} --activate-after 0` first"
        )
    try:
        fmt.from_key_texts(
            [(str(f.path), read_key_text(f.path)) for f in rest],
            activations=[f.activates for f in rest],
            activation_clock=clock,
        )
    except KeyConfigError as exc:
        raise KeyConfigError(
            f"{retired.path}: retiring {kid} would leave no key that can sign now ({exc}); "
            f"run `tokenbench keys rotate --format {fmt.name.value} --activate-after 0` first"
        ) from exc
    retired.path.unlink()
    return retired


def key_directory_signature(keys_dir: Path, name: FormatName | str) -> object:
    """A value that changes whenever a key file of ``name`` is added, removed or rewritten (no parsing)."""
    fmt = FORMATS[FormatName(name)]
    return directory_signature(keys_dir, fmt.name, fmt.key_file_suffix)


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
