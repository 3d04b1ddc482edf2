"""tokenbench token formats: one protocol, five formats, one error tree, one claim check.

    >>> from formats import FormatName, Kind, ephemeral
    >>> fmt = ephemeral(FormatName.PASETO_V4_PUBLIC)

No web framework is imported here, ever.
"""

from __future__ import annotations

from pathlib import Path

from formats._ring import MAX_TOKEN_CHARS
from formats.base import Clock, FormatName, Kind, TokenFormat
from formats.claims import ClaimPolicy, Claims, check_claims
from formats.errors import (
    KeyConfigError,
    TokenBadSignature,
    TokenClaimsInvalid,
    TokenError,
    TokenExpired,
    TokenMalformed,
    TokenNotYetValid,
    TokenRevoked,
    TokenUnknownKey,
    TokenWrongKind,
)
from formats.keys import refuse_shared_key_material
from formats.registry import FORMATS

__all__ = [
    "FORMATS",
    "MAX_TOKEN_CHARS",
    "ClaimPolicy",
    "Claims",
    "Clock",
    "FormatName",
    "KeyConfigError",
    "Kind",
    "TokenBadSignature",
    "TokenClaimsInvalid",
    "TokenError",
    "TokenExpired",
    "TokenFormat",
    "TokenMalformed",
    "TokenNotYetValid",
    "TokenRevoked",
    "TokenUnknownKey",
    "TokenWrongKind",
    "check_claims",
    "ephemeral",
    "load",
]


def ephemeral(
    name: FormatName | str, *, policy: ClaimPolicy | None = None, clock: Clock | None = None
) -> TokenFormat:
    """A ready format with fresh in-memory keys (tests, benchmarks, docs examples)."""
    return FORMATS[FormatName(name)].ephemeral(policy=policy, clock=clock)


def load(
    name: FormatName | str,
    keys_dir: Path | str,
    *,
    policy: ClaimPolicy | None = None,
    clock: Clock | None = None,
) -> TokenFormat:
    """The format ``name`` with its key ring read from ``keys_dir/<name>/``.

    Refuses a ring whose secret bytes are also another format's key in ``keys_dir``.
    """
    refuse_shared_key_material(Path(keys_dir), name)
    return FORMATS[FormatName(name)].load(Path(keys_dir), policy=policy, clock=clock)
