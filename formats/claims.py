"""The claims every format carries, and the one claim check all formats share.

Inside the project times are aware ``datetime`` values. On the wire each format keeps its own standard:
JWT uses NumericDate integers (RFC 7519 §2), PASETO uses RFC 3339 strings with an upper-case ``T`` and an
offset (PASETO "Registered Claims"). The conversion lives in :class:`TimeCodec` implementations; the rules
live in :func:`check_claims` and nowhere else.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Final

import msgspec

from formats.base import Kind
from formats.errors import (
    TokenClaimsInvalid,
    TokenExpired,
    TokenNotYetValid,
    TokenWrongKind,
)

__all__ = [
    "MAX_LEEWAY",
    "ClaimPolicy",
    "Claims",
    "check_claims",
    "from_wire",
    "utc_now",
]

MAX_LEEWAY: Final = 300
"""Seconds. A leeway above this lets expired tokens through (catalog CLAIM-LEEWAY-ABUSE)."""

_Name = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class Claims(msgspec.Struct, frozen=True, kw_only=True):
    """The claims of an access or refresh token.

    ``fam`` (the refresh-session family) and ``ver`` (its rotation counter) are present on refresh tokens
    and absent on access tokens.
    """

    sub: _Name
    role: _Name
    perms: tuple[_Name, ...] = ()
    iat: datetime
    nbf: datetime | None = None
    exp: datetime
    jti: _Name
    iss: str | None = None
    aud: str | None = None
    fam: _Name | None = None
    ver: Annotated[int, msgspec.Meta(ge=0)] | None = None


class ClaimPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """What every verified token must satisfy besides its cryptography."""

    leeway: int = 30
    issuer: str | None = None
    audience: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.leeway, bool) or not 0 <= self.leeway <= MAX_LEEWAY:
            raise ValueError(f"leeway must be between 0 and {MAX_LEEWAY} seconds, got {self.leeway!r}")


def utc_now() -> datetime:
    """The default clock."""
    return datetime.now(UTC)


def check_claims(claims: Claims, *, kind: Kind, policy: ClaimPolicy, now: datetime) -> Claims:
    """Apply the shared claim rules; return ``claims`` unchanged or raise a ``TokenError``.

    Rules, identical for every format:

    * ``exp`` is required (the type guarantees it); the token is valid up to ``exp + leeway`` inclusive.
    * ``nbf``, when present, and ``iat`` must not lie in the future by more than the leeway.
    * ``exp`` must be after ``iat`` (a token that was never valid is malformed, not expired).
    * ``iss`` / ``aud`` must equal the policy's values when the policy sets them (exact string match).
    * A refresh token carries ``fam`` and ``ver``; an access token carries neither.
    """
    leeway = timedelta(seconds=policy.leeway)
    if claims.exp <= claims.iat:
        raise TokenClaimsInvalid("exp is not after iat")
    if now > claims.exp + leeway:
        raise TokenExpired("token expired")
    if now < claims.iat - leeway:
        raise TokenNotYetValid("token issued in the future (iat)")
    if claims.nbf is not None and now < claims.nbf - leeway:
        raise TokenNotYetValid("token not valid yet (nbf)")
    if policy.issuer is not None and claims.iss != policy.issuer:
        raise TokenClaimsInvalid("issuer does not match")
    if policy.audience is not None and claims.aud != policy.audience:
        raise TokenClaimsInvalid("audience does not match")
    is_refresh = claims.fam is not None or claims.ver is not None
    if is_refresh != (kind is Kind.REFRESH):
        if (claims.fam is None) != (claims.ver is None):
            raise TokenClaimsInvalid("fam and ver go together")
        raise TokenWrongKind(f"claims are not those of a {kind} token")
    return claims


# --- wire forms -------------------------------------------------------------------------------------

_RFC3339: Final = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})\Z")

NumericDate = Annotated[int, msgspec.Meta(ge=0, le=253402300799)]
"""RFC 7519 NumericDate restricted to integers that fit a ``datetime`` (years 1970-9999)."""

Rfc3339 = Annotated[str, msgspec.Meta(max_length=40)]


def _wire_struct(name: str, time_type: Any) -> type[msgspec.Struct]:
    return msgspec.defstruct(
        name,
        [
            ("sub", _Name),
            ("role", _Name),
            ("perms", tuple[_Name, ...], ()),
            ("iat", time_type),
            ("nbf", time_type | None, None),
            ("exp", time_type),
            ("jti", _Name),
            ("iss", str | None, None),
            ("aud", str | None, None),
            ("fam", _Name | None, None),
            ("ver", Annotated[int, msgspec.Meta(ge=0)] | None, None),
        ],
        kw_only=True,
        frozen=True,
        omit_defaults=True,
    )


JwtWire: Final = _wire_struct("JwtWire", NumericDate)
PasetoWire: Final = _wire_struct("PasetoWire", Rfc3339)


def numericdate_from_wire(value: int) -> datetime:
    """NumericDate (already range-checked by the wire type) to an aware datetime."""
    return datetime.fromtimestamp(value, UTC)


def numericdate_to_wire(value: datetime) -> int:
    """Aware datetime to NumericDate, truncated to whole seconds."""
    return int(value.timestamp())


def rfc3339_from_wire(value: str) -> datetime:
    """Parse the one RFC 3339 spelling PASETO uses; anything else is an invalid claim."""
    if _RFC3339.match(value) is None:
        raise TokenClaimsInvalid("time claim is not an RFC 3339 date-time")
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:  # e.g. month 13: the pattern alone cannot tell
        raise TokenClaimsInvalid("time claim is not a valid date-time") from exc


def rfc3339_to_wire(value: datetime) -> str:
    """Aware datetime to ``YYYY-MM-DDTHH:MM:SS(.ffffff)Z``."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def to_wire(claims: Claims, wire_type: type[msgspec.Struct], time_to_wire: Callable[[datetime], Any]) -> Any:
    """Build the wire struct of ``claims``; time conversion per format."""
    return wire_type(
        sub=claims.sub,
        role=claims.role,
        perms=claims.perms,
        iat=time_to_wire(claims.iat),
        nbf=None if claims.nbf is None else time_to_wire(claims.nbf),
        exp=time_to_wire(claims.exp),
        jti=claims.jti,
        iss=claims.iss,
        aud=claims.aud,
        fam=claims.fam,
        ver=claims.ver,
    )


def from_wire(wire: Any, time_from_wire: Callable[[Any], datetime]) -> Claims:
    """Build :class:`Claims` from a decoded wire struct."""
    nbf = wire.nbf
    return Claims(
        sub=wire.sub,
        role=wire.role,
        perms=wire.perms,
        iat=time_from_wire(wire.iat),
        nbf=None if nbf is None else time_from_wire(nbf),
        exp=time_from_wire(wire.exp),
        jti=wire.jti,
        iss=wire.iss,
        aud=wire.aud,
        fam=wire.fam,
        ver=wire.ver,
    )
