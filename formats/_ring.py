"""Key-ring plumbing shared by every format: key files on disk, ids, active and verify-only keys.

Layout: ``<keys_dir>/<format>/<UTC timestamp>-<id prefix><suffix>``, one key per file, mode 0600. The file
whose name sorts last (the newest) is the active key; every other file is a verify-only (retiring) key
until it is deleted. The timestamp in the name is what orders them, so nothing else has to be kept in sync.
"""

from __future__ import annotations

import os
import re
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Final, Generic, Self, TypeVar

from formats.base import Clock, FormatName
from formats.claims import ClaimPolicy, utc_now
from formats.errors import KeyConfigError

__all__ = ["KeyFile", "RingFormat", "key_files", "write_key_file"]

K = TypeVar("K")

MAX_TOKEN_CHARS: Final = 8192
"""Longest token any format reads; anything longer is malformed before any parsing (catalog
PARSE-OVERSIZED-TOKEN). The service applies the same cap to the header and cookie."""

_KID: Final = re.compile(r"[A-Za-z0-9_.:-]{1,128}\Z")
_TEXT: Final = frozenset(range(32, 127)) | {9, 10, 13}


def refuse_text_secret(secret: bytes, *, source: str, what: str, fix: str) -> None:
    """Refuse a symmetric key that is printable text: a passphrase, or a PEM/SSH/JWK key pasted as bytes.

    32 random bytes are all printable with probability (98/256)^32, about 1e-13; a human-chosen secret
    almost always is (catalog WEAK-SYMMETRIC-KEY: 'my-super-secret-key-for-jwt-2024!' is 33 bytes).
    """
    if all(b in _TEXT for b in secret):
        raise KeyConfigError(
            f"{source}: {what} is printable text (a passphrase, or a PEM/SSH/JWK key), "
            f"not random bytes; {fix}"
        )


@dataclass(frozen=True, slots=True)
class KeyFile:
    """One key file of a ring, as ``tokenbench keys list`` shows it."""

    path: Path
    kid: str
    active: bool


def check_kid(kid: object, *, source: str) -> str:
    """A key id is an opaque short string; it never reaches a path, a shell or a query."""
    if not isinstance(kid, str) or _KID.match(kid) is None:
        raise KeyConfigError(
            f"{source}: key id must be 1-128 characters of A-Z a-z 0-9 _ . : - "
            "(regenerate with `tokenbench keys generate`)"
        )
    return kid


def key_files(keys_dir: Path, name: FormatName, suffix: str) -> list[Path]:
    """The key files of one format, oldest first (the last one is active)."""
    directory = keys_dir / name.value
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.name.endswith(suffix) and p.is_file())


def write_key_file(keys_dir: Path, name: FormatName, suffix: str, text: str, kid: str) -> Path:
    """Write a new key file that sorts after every existing one, readable by the owner only."""
    directory = keys_dir / name.value
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    tag = re.sub(r"[^A-Za-z0-9]", "", kid.rsplit(".", 1)[-1])[:8]
    path = directory / f"{stamp}-{tag}{suffix}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text.strip() + "\n")
    return path


def read_key_text(path: Path) -> str:
    """Read one key file, or explain why it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyConfigError(
            f"{path}: cannot read key file ({exc}); fix its permissions or remove it"
        ) from exc
    if not text:
        raise KeyConfigError(f"{path}: key file is empty; remove it and run `tokenbench keys generate`")
    return text


class RingFormat(Generic[K]):
    """Construction shared by all formats: a ring of parsed keys, the claim policy and the clock.

    A subclass parses key text into its own key type (``parse_key``) and implements ``issue``/``verify``.
    """

    name: ClassVar[FormatName]
    key_file_suffix: ClassVar[str]

    def __init__(
        self,
        keys: Mapping[str, K],
        active_kid: str,
        *,
        policy: ClaimPolicy | None = None,
        clock: Clock | None = None,
    ) -> None:
        if active_kid not in keys:
            raise KeyConfigError(f"{self.name}: active key {active_kid!r} is not in the key ring")
        self._keys: dict[str, K] = dict(keys)
        self._active_kid = active_kid
        self._policy = policy or ClaimPolicy()
        self._clock: Clock = clock or utc_now
        self._check_ring()

    # --- per format ---------------------------------------------------------------------------------

    @classmethod
    @abstractmethod
    def parse_key(cls, text: str, *, source: str) -> tuple[str, K]:
        """Parse and validate key text; return ``(kid, key)`` or raise KeyConfigError naming ``source``."""

    @classmethod
    @abstractmethod
    def generate_key_text(cls) -> str:
        """A new secret key as key-file text."""

    @classmethod
    @abstractmethod
    def _material(cls, key: K) -> bytes | None:
        """The secret bytes of ``key`` (None for a public-only key), to refuse one key used by two formats."""

    @abstractmethod
    def _check_ring(self) -> None:
        """Refuse rings the format cannot use (e.g. an active key without its private part)."""

    # --- shared -------------------------------------------------------------------------------------

    @classmethod
    def key_id_of(cls, key_text: str, *, source: str) -> str:
        """The key id of ``key_text``, validating it on the way."""
        return cls.parse_key(key_text, source=source)[0]

    @classmethod
    def _public_bytes(cls, key: K) -> bytes | None:  # noqa: ARG003 - symmetric formats have none
        """The raw public key of ``key`` (None for symmetric formats), to refuse it as another's secret."""
        return None

    @classmethod
    def key_public_bytes_of(cls, key_text: str, *, source: str) -> bytes | None:
        """The raw public key of ``key_text`` (None if symmetric), validating it on the way."""
        return cls._public_bytes(cls.parse_key(key_text, source=source)[1])

    @classmethod
    def key_material_of(cls, key_text: str, *, source: str) -> bytes | None:
        """The secret bytes of ``key_text`` (None if it holds no secret), validating it on the way."""
        return cls._material(cls.parse_key(key_text, source=source)[1])

    @classmethod
    def from_key_texts(
        cls,
        texts: Sequence[tuple[str, str]],
        *,
        policy: ClaimPolicy | None = None,
        clock: Clock | None = None,
    ) -> Self:
        """Build a ring from ``(source, text)`` pairs, oldest first; the last one is active."""
        if not texts:
            raise KeyConfigError(f"{cls.name}: no keys given")
        keys: dict[str, K] = {}
        kid = ""
        for source, text in texts:
            kid, key = cls.parse_key(text, source=source)
            if kid in keys:
                raise KeyConfigError(f"{source}: key id {kid!r} appears twice in the ring; remove one copy")
            keys[kid] = key
        try:
            return cls(keys, kid, policy=policy, clock=clock)
        except KeyConfigError as exc:  # the active key cannot issue: name its file (the last source)
            raise KeyConfigError(f"{source}: {exc}") from exc

    @classmethod
    def ephemeral(cls, *, policy: ClaimPolicy | None = None, clock: Clock | None = None) -> Self:
        """A ready format with one fresh in-memory key."""
        return cls.from_key_texts([("<ephemeral>", cls.generate_key_text())], policy=policy, clock=clock)

    @classmethod
    def load(cls, keys_dir: Path, *, policy: ClaimPolicy | None = None, clock: Clock | None = None) -> Self:
        """Read ``keys_dir/<format>/*<suffix>``; the newest file holds the active key."""
        files = key_files(keys_dir, cls.name, cls.key_file_suffix)
        if not files:
            raise KeyConfigError(
                f"{keys_dir / cls.name.value}: no {cls.key_file_suffix} key files; "
                f"run `tokenbench keys generate --format {cls.name.value}`"
            )
        return cls.from_key_texts([(str(p), read_key_text(p)) for p in files], policy=policy, clock=clock)

    @property
    def active_kid(self) -> str:
        """Key id of the key that issues new tokens."""
        return self._active_kid

    @property
    def kids(self) -> tuple[str, ...]:
        """Every key id of the ring, active first."""
        return (self._active_kid, *(k for k in self._keys if k != self._active_kid))

    @property
    def policy(self) -> ClaimPolicy:
        """The claim policy every verified token must satisfy."""
        return self._policy

    def well_known(self) -> Mapping[str, Any]:
        """No public documents unless the format overrides this."""
        return {}
