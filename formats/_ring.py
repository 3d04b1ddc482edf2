"""Key-ring plumbing shared by every format: key files on disk, ids, next, active and verify-only keys.

Layout: ``<keys_dir>/<format>/<UTC timestamp>-<id prefix><suffix>``, one key per file, mode 0600. The
timestamp in the name is the key's **activation time**: the active key is the newest key whose time has
come (by the wall clock, the same moment on every process that reads the directory); newer keys are
*next* keys (published and verifying at once, signing from their time on), older ones verify-only until
their file is deleted. A key written by ``generate`` (or by an older tokenbench) is stamped with the moment
it was written, so "the newest file signs" still holds for every directory without a future stamp. A file
whose name carries no timestamp counts as active since forever. Nothing else has to be kept in sync.
"""

from __future__ import annotations

import enum
import os
import re
import secrets
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Final, Generic, Self, TypeVar

from formats.base import Clock, FormatName
from formats.claims import ClaimPolicy, utc_now
from formats.errors import KeyConfigError

__all__ = [
    "KeyFile",
    "KeyRole",
    "RingFormat",
    "activation_of",
    "directory_signature",
    "key_files",
    "write_key_file",
]

K = TypeVar("K")

MAX_TOKEN_CHARS: Final = 8192
"""Longest token any format reads; anything longer is malformed before any parsing (catalog
PARSE-OVERSIZED-TOKEN). The service applies the same cap to the header and cookie."""

_KID: Final = re.compile(r"[A-Za-z0-9_.:-]{1,128}\Z")
_STAMP: Final = re.compile(r"(\d{8}T\d{12})Z-")
_STAMP_FORMAT: Final = "%Y%m%dT%H%M%S%f"
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


class KeyRole(enum.StrEnum):
    """Where a key stands in its ring at a given moment."""

    NEXT = "next"
    """Published and verifying; signs from its activation time on."""
    ACTIVE = "active"
    """Signs new tokens (the newest key whose activation time has come)."""
    VERIFY_ONLY = "verify-only"
    """Verifies tokens it signed before a newer key became active, until its file is deleted."""


@dataclass(frozen=True, slots=True)
class KeyFile:
    """One key file of a ring, as ``tokenbench keys list`` shows it."""

    path: Path
    kid: str
    active: bool
    role: KeyRole = KeyRole.ACTIVE
    activates: datetime | None = None
    """When the key starts to sign (the time stamp of its file name); None: since forever."""


def check_kid(kid: object, *, source: str) -> str:
    """A key id is an opaque short string; it never reaches a path, a shell or a query."""
    if not isinstance(kid, str) or _KID.match(kid) is None:
        raise KeyConfigError(
            f"{source}: key id must be 1-128 characters of A-Z a-z 0-9 _ . : - "
            "(regenerate with `tokenbench keys generate`)"
        )
    return kid


def key_files(keys_dir: Path, name: FormatName, suffix: str) -> list[Path]:
    """The key files of one format in activation order, oldest first."""
    directory = keys_dir / name.value
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.name.endswith(suffix) and p.is_file())


def activation_of(path: Path) -> datetime | None:
    """The activation time in a key file's name (``20261202T101500123456Z-...``); None if it has none."""
    match = _STAMP.match(path.name)
    if match is None:
        return None
    try:
        return datetime.strptime(match.group(1), _STAMP_FORMAT).replace(tzinfo=UTC)
    except ValueError:  # digits in the right places, but not a date (month 13): no activation time
        return None


def directory_signature(
    keys_dir: Path, name: FormatName, suffix: str
) -> tuple[tuple[str, int, int, int], ...]:
    """Name, inode, size and mtime of each key file: cheap to take, and it changes with any edit.

    A running process compares it every ``TOKENBENCH_KEYS_RELOAD`` seconds and parses the keys only when
    it differs (a file added, removed, replaced or rewritten).
    """
    try:
        entries = list(os.scandir(keys_dir / name.value))
    except OSError:
        return ()
    signature = []
    for entry in entries:
        if not entry.name.endswith(suffix):
            continue
        try:
            stat = entry.stat()
        except OSError:  # removed between the listing and the stat: the next look sees it gone
            continue
        signature.append((entry.name, stat.st_ino, stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(signature))


def write_key_file(
    keys_dir: Path, name: FormatName, suffix: str, text: str, kid: str, *, activates: datetime | None = None
) -> Path:
    """Write a new key file named by its activation time (default now), readable by the owner only.

    The file appears whole or not at all (written under a temporary name, then linked into place), so a
    process re-reading the directory never parses half a key.
    """
    directory = keys_dir / name.value
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    stamp = (activates or datetime.now(UTC)).astimezone(UTC).strftime(_STAMP_FORMAT) + "Z"
    tag = re.sub(r"[^A-Za-z0-9]", "", kid.rsplit(".", 1)[-1])[:8]
    path = directory / f"{stamp}-{tag}{suffix}"
    temporary = directory / f".{secrets.token_hex(8)}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text.strip() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temporary, path)  # fails if the name exists: never overwrites a key
    finally:
        temporary.unlink()
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


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class RingFormat(Generic[K]):
    """Construction shared by all formats: a ring of parsed keys, the claim policy and the clock.

    A subclass parses key text into its own key type (``parse_key``) and implements ``issue``/``verify``.
    The ring holds every key that verifies: the active key, the *next* keys (``pending``: activation
    time and key id, soonest first) and the verify-only ones. ``issue`` moves on to a next key when its
    time has come by ``activation_clock`` (the wall clock unless a test passes its own; the claims
    ``clock`` stays separate, so a fixed claims clock does not freeze key activation). A ring without an
    active key only verifies (the public keys a verifier fetched, :meth:`from_public_document`).
    """

    name: ClassVar[FormatName]
    key_file_suffix: ClassVar[str]
    public_document: ClassVar[str | None] = None
    """The ``/.well-known/`` document that lists the public keys; None for a symmetric format, whose
    verifiers must hold the secret itself."""

    def __init__(
        self,
        keys: Mapping[str, K],
        active_kid: str | None,
        *,
        policy: ClaimPolicy | None = None,
        clock: Clock | None = None,
        pending: Sequence[tuple[datetime, str]] = (),
        activations: Mapping[str, datetime | None] | None = None,
        activation_clock: Clock | None = None,
    ) -> None:
        if active_kid is not None and active_kid not in keys:
            raise KeyConfigError(f"{self.name}: active key {active_kid!r} is not in the key ring")
        if active_kid is None and pending:
            raise KeyConfigError(f"{self.name}: a ring with next keys needs an active key")
        self._keys: dict[str, K] = dict(keys)
        self._active_kid = active_kid
        self._pending: tuple[tuple[datetime, str], ...] = tuple(sorted(pending))
        for moment, kid in self._pending:
            if kid not in self._keys:
                raise KeyConfigError(f"{self.name}: next key {kid!r} is not in the key ring")
            if self._material(self._keys[kid]) is None:
                raise KeyConfigError(
                    f"{self.name}: key {kid!r} activates at {_iso(moment)} but has no private part and "
                    f"could not sign; write it with `tokenbench keys rotate --format {self.name.value}`"
                )
        self._activations: dict[str, datetime | None] = dict(activations or {})
        self._policy = policy or ClaimPolicy()
        self._clock: Clock = clock or utc_now
        self._activation_clock: Clock = activation_clock or utc_now
        self._index_ring()
        if active_kid is not None:
            self._check_signing_key(self._keys[active_kid])

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
    def _index_ring(self) -> None:
        """Build the hot-path lookup tables of the ring."""

    @abstractmethod
    def _check_signing_key(self, key: K) -> None:
        """Refuse an active key that cannot sign (and prepare the signer, where the format needs one)."""

    @classmethod
    def _public_key_text(cls, entry: Mapping[str, Any], *, source: str) -> str:  # noqa: ARG003
        """The key text (as :meth:`parse_key` reads it) of one entry of the published document."""
        raise KeyConfigError(f"{source}: {cls.name} publishes no public keys")

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
        activations: Sequence[datetime | None] | None = None,
        activation_clock: Clock | None = None,
    ) -> Self:
        """Build a ring from ``(source, text)`` pairs, oldest first, with their activation times.

        Without ``activations`` the last key is active (every key is due). Otherwise the active key is
        the last one whose time has come; the ones after it are next keys.
        """
        if not texts:
            raise KeyConfigError(f"{cls.name}: no keys given")
        times = list(activations) if activations is not None else [None] * len(texts)
        if len(times) != len(texts):
            raise KeyConfigError(f"{cls.name}: {len(times)} activation times for {len(texts)} keys")
        keys: dict[str, K] = {}
        kids: list[str] = []
        for source, text in texts:
            kid, key = cls.parse_key(text, source=source)
            if kid in keys:
                raise KeyConfigError(f"{source}: key id {kid!r} appears twice in the ring; remove one copy")
            keys[kid] = key
            kids.append(kid)
        now = (activation_clock or utc_now)()
        due = [i for i, moment in enumerate(times) if moment is None or moment <= now]
        if not due:
            first = min(m for m in times if m is not None)
            raise KeyConfigError(
                f"{texts[0][0]}: no {cls.name} key is active yet (the first activates at {_iso(first)}); "
                f"run `tokenbench keys rotate --format {cls.name.value} --activate-after 0`"
            )
        active = due[-1]
        pending: list[tuple[datetime, str]] = []
        for i in range(active + 1, len(texts)):
            moment = times[i]
            assert moment is not None  # every key after the active one is not yet due
            if cls._material(keys[kids[i]]) is None:
                raise KeyConfigError(
                    f"{texts[i][0]}: this key activates at {_iso(moment)} but has no private part and "
                    f"could not sign; write it with `tokenbench keys rotate --format {cls.name.value}`"
                )
            pending.append((moment, kids[i]))
        try:
            return cls(
                keys,
                kids[active],
                policy=policy,
                clock=clock,
                pending=pending,
                activations=dict(zip(kids, times, strict=True)),
                activation_clock=activation_clock,
            )
        except KeyConfigError as exc:  # the active key cannot issue: name its file
            raise KeyConfigError(f"{texts[active][0]}: {exc}") from exc

    @classmethod
    def ephemeral(cls, *, policy: ClaimPolicy | None = None, clock: Clock | None = None) -> Self:
        """A ready format with one fresh in-memory key."""
        return cls.from_key_texts([("<ephemeral>", cls.generate_key_text())], policy=policy, clock=clock)

    @classmethod
    def load(
        cls,
        keys_dir: Path,
        *,
        policy: ClaimPolicy | None = None,
        clock: Clock | None = None,
        activation_clock: Clock | None = None,
    ) -> Self:
        """Read ``keys_dir/<format>/*<suffix>``; the newest key whose activation time has come is active."""
        files = key_files(keys_dir, cls.name, cls.key_file_suffix)
        if not files:
            raise KeyConfigError(
                f"{keys_dir / cls.name.value}: no {cls.key_file_suffix} key files; "
                f"run `tokenbench keys generate --format {cls.name.value}`"
            )
        return cls.from_key_texts(
            [(str(p), read_key_text(p)) for p in files],
            policy=policy,
            clock=clock,
            activations=[activation_of(p) for p in files],
            activation_clock=activation_clock,
        )

    @classmethod
    def from_public_document(
        cls,
        document: object,
        *,
        source: str,
        policy: ClaimPolicy | None = None,
        clock: Clock | None = None,
    ) -> Self:
        """A verify-only ring from a published key document (``{"keys": [...]}``, as :meth:`well_known`).

        Every entry must parse as this format's public key, carry the key's own id, and hold no private
        part (a document that leaks one is refused whole: whoever reads it could sign).
        """
        if cls.public_document is None:
            raise KeyConfigError(
                f"{cls.name} is symmetric: it publishes no public key, so a verifier must hold the secret"
            )
        entries = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(entries, list) or not entries:
            raise KeyConfigError(f'{source}: expected {{"keys": [...]}} with at least one key')
        keys: dict[str, K] = {}
        for index, entry in enumerate(entries):
            where = f"{source} key {index}"
            if not isinstance(entry, dict):
                raise KeyConfigError(f"{where}: a key entry is a JSON object")
            kid, key = cls.parse_key(cls._public_key_text(entry, source=where), source=where)
            if entry.get("kid") != kid:
                raise KeyConfigError(
                    f"{where}: published kid {entry.get('kid')!r} is not the key's own id {kid!r}"
                )
            if cls._material(key) is not None:
                raise KeyConfigError(f"{where}: the document holds a private key; refused whole")
            if kid in keys:
                raise KeyConfigError(f"{where}: key id {kid!r} appears twice")
            keys[kid] = key
        return cls(keys, None, policy=policy, clock=clock)

    def reload(self, keys_dir: Path) -> None:
        """Re-read the ring from ``keys_dir`` in place; on KeyConfigError the running ring is unchanged.

        The fresh ring is built and checked completely first, then its tables replace the running ones
        in one synchronous step, so ``verify`` (which never awaits) sees either the old ring or the new.
        """
        fresh = type(self).load(
            keys_dir, policy=self._policy, clock=self._clock, activation_clock=self._activation_clock
        )
        vars(self).update(vars(fresh))

    def _signer_kid(self) -> str:
        """The active key id at this moment, moving on to the next key whose activation time has come."""
        if self._pending and self._activation_clock() >= self._pending[0][0]:
            now = self._activation_clock()
            pending = self._pending
            kid = pending[0][1]
            while pending and pending[0][0] <= now:
                kid, pending = pending[0][1], pending[1:]
            self._active_kid, self._pending = kid, pending
            self._check_signing_key(self._keys[kid])  # checked at load; PASETO prepares its signer here
        if self._active_kid is None:
            raise KeyConfigError(f"{self.name}: this ring holds public keys only; it verifies, never issues")
        return self._active_kid

    @property
    def active_kid(self) -> str:
        """Key id of the key that issues new tokens now."""
        return self._signer_kid()

    @property
    def can_issue(self) -> bool:
        """False for a verify-only ring (public keys fetched from an issuer)."""
        return self._active_kid is not None

    @property
    def kids(self) -> tuple[str, ...]:
        """Every key id of the ring (next and verify-only keys too), active first."""
        if self._active_kid is None:
            return tuple(self._keys)
        active = self._signer_kid()
        return (active, *(k for k in self._keys if k != active))

    def roles(self) -> list[tuple[str, KeyRole, datetime | None]]:
        """Each key id with its role now and its activation time, as ``keys list`` and ``/health`` show."""
        active = self._signer_kid() if self._active_kid is not None else None
        waiting = {kid for _, kid in self._pending}
        return [
            (
                kid,
                KeyRole.ACTIVE if kid == active else KeyRole.NEXT if kid in waiting else KeyRole.VERIFY_ONLY,
                self._activations.get(kid),
            )
            for kid in self._keys
        ]

    @property
    def policy(self) -> ClaimPolicy:
        """The claim policy every verified token must satisfy."""
        return self._policy

    def well_known(self) -> Mapping[str, Any]:
        """No public documents unless the format overrides this."""
        return {}
