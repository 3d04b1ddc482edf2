"""The token-format abstraction: the two kinds of token, the format names, and the protocol."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self

if TYPE_CHECKING:
    from formats.claims import ClaimPolicy, Claims

__all__ = ["Clock", "FormatName", "Kind", "TokenFormat"]

Clock = Callable[[], datetime]
"""Returns the current time as an aware ``datetime``; injected so tests pass a fixed one."""


class Kind(enum.StrEnum):
    """What a token is for. The two kinds are never interchangeable."""

    ACCESS = "access"
    REFRESH = "refresh"


class FormatName(enum.StrEnum):
    """The config flag values; used verbatim as registry keys, test ids and report columns."""

    JWT_HS256 = "jwt-hs256"
    JWT_ES256 = "jwt-es256"
    JWT_EDDSA = "jwt-eddsa"
    PASETO_V4_LOCAL = "paseto-v4-local"
    PASETO_V4_PUBLIC = "paseto-v4-public"


class TokenFormat(Protocol):
    """One token format with its key ring.

    ``issue`` signs (or encrypts) with the active key; ``verify`` accepts any key of the ring and raises
    only :class:`formats.errors.TokenError` subclasses.
    """

    name: ClassVar[FormatName]
    key_file_suffix: ClassVar[str]
    public_document: ClassVar[str | None]
    """The ``/.well-known/`` document of the public keys (``jwks.json``, ``paserk.json``); None: symmetric."""

    @classmethod
    def ephemeral(cls, *, policy: ClaimPolicy | None = None, clock: Clock | None = None) -> Self:
        """A ready format with one fresh in-memory key."""
        ...

    @classmethod
    def load(cls, keys_dir: Path, *, policy: ClaimPolicy | None = None, clock: Clock | None = None) -> Self:
        """Read the key ring from ``keys_dir/<format>/``; the newest key file is the active one."""
        ...

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
        """A ring from ``(source, key text)`` pairs, oldest first, with optional activation times."""
        ...

    @classmethod
    def from_public_document(
        cls,
        document: object,
        *,
        source: str,
        policy: ClaimPolicy | None = None,
        clock: Clock | None = None,
    ) -> Self:
        """A verify-only ring from the public key document an issuer publishes (see ``well_known``)."""
        ...

    @classmethod
    def generate_key_text(cls) -> str:
        """A new secret key in this format's key-file text (JWK JSON or PASERK)."""
        ...

    @classmethod
    def key_id_of(cls, key_text: str, *, source: str) -> str:
        """The key id of a key-file text; raises ``KeyConfigError`` naming ``source`` if unusable."""
        ...

    @classmethod
    def key_material_of(cls, key_text: str, *, source: str) -> bytes | None:
        """The secret bytes of a key-file text (None for a public key); used to refuse shared keys."""
        ...

    @classmethod
    def key_public_bytes_of(cls, key_text: str, *, source: str) -> bytes | None:
        """The raw public key of a key-file text (None for a symmetric key); a secret must never equal one."""
        ...

    @property
    def active_kid(self) -> str:
        """Key id of the key that issues new tokens now (a next key takes over at its activation time)."""
        ...

    @property
    def can_issue(self) -> bool:
        """False for a verify-only ring."""
        ...

    def reload(self, keys_dir: Path) -> None:
        """Re-read the ring from ``keys_dir`` in place; on KeyConfigError the running ring stays as it was."""
        ...

    @property
    def kids(self) -> tuple[str, ...]:
        """Key ids of every key that verifies (next and verify-only keys too), active first."""
        ...

    def issue(self, claims: Claims, *, kind: Kind) -> str:
        """Serialise, then sign or encrypt ``claims`` as a token of ``kind`` with the active key."""
        ...

    def verify(self, token: str, *, kind: Kind) -> Claims:
        """Check spelling, key id, signature, kind and claims; return the claims or raise TokenError."""
        ...

    def well_known(self) -> Mapping[str, Any]:
        """Public documents to publish under ``/.well-known/<name>`` (JWKS, PASERK); empty if none."""
        ...
