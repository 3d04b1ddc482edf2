"""The claims every format carries, and the one claim check all formats share.

Inside the project times are aware ``datetime`` values. On the wire each format keeps its own standard:
JWT uses NumericDate integers (RFC 7519 §2), PASETO uses RFC 3339 strings with an upper-case ``T`` and an
offset (PASETO "Registered Claims"). The conversion lives in :class:`TimeCodec` implementations; the rules
live in :func:`check_claims` and nowhere else.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Final

import msgspec

from formats._codec import decode_claims
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
    "claims_from_jwt",
    "claims_from_paseto",
    "claims_to_jwt",
    "claims_to_paseto",
    "utc_now",
]

MAX_LEEWAY: Final = 300
"""Seconds. A leeway above this lets expired tokens through (catalog CLAIM-LEEWAY-ABUSE)."""

_Name = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


_Time = Annotated[datetime, msgspec.Meta(tz=True)]


class Claims(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The claims of an access or refresh token.

    ``fam`` (the refresh-session family) and ``ver`` (its rotation counter) are present on refresh tokens
    and absent on access tokens.
    """

    sub: _Name
    role: _Name
    perms: tuple[_Name, ...] = ()
    iat: _Time
    nbf: _Time | None = None
    exp: _Time
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


_LEEWAY: Final = {s: timedelta(seconds=s) for s in range(MAX_LEEWAY + 1)}


def check_claims(claims: Claims, *, kind: Kind, policy: ClaimPolicy, now: datetime) -> Claims:
    """Apply the shared claim rules; return ``claims`` unchanged or raise a ``TokenError``.

    Rules, identical for every format:

    * ``exp`` is required (the type guarantees it); the token is valid up to ``exp + leeway`` inclusive.
    * ``nbf``, when present, and ``iat`` must not lie in the future by more than the leeway.
    * ``exp`` must be after ``iat`` (a token that was never valid is malformed, not expired).
    * ``iss`` / ``aud`` must equal the policy's values when the policy sets them (exact string match).
    * A refresh token carries ``fam`` and ``ver``; an access token carries neither.
    """
    leeway = _LEEWAY.get(policy.leeway) or timedelta(seconds=policy.leeway)
    earliest, latest = now - leeway, now + leeway
    if claims.exp <= claims.iat:
        raise TokenClaimsInvalid("exp is not after iat")
    if claims.exp < earliest:
        raise TokenExpired("token expired")
    if claims.iat > latest:
        raise TokenNotYetValid("token issued in the future (iat)")
    if claims.nbf is not None and claims.nbf > latest:
        raise TokenNotYetValid("token not valid yet (nbf)")
    if policy.issuer is not None and claims.iss != policy.issuer:
        raise TokenClaimsInvalid("issuer does not match")
    if policy.audience is not None and claims.aud != policy.audience:
        raise TokenClaimsInvalid("audience does not match")
    if (claims.fam is None) != (claims.ver is None):
        raise TokenClaimsInvalid("fam and ver go together")
    if (claims.fam is not None) != (kind is Kind.REFRESH):
        raise TokenWrongKind(f"claims are not those of a {kind} token")
    return claims


# --- wire forms -------------------------------------------------------------------------------------
#
# Decoding is where strictness and speed meet. A payload is accepted on the fast path only when it is
# byte for byte the canonical encoding of what it decodes to (this is what tokenbench issues): then its
# member names are unique and its times are spelled canonically. Any other spelling is checked exactly by
# a strict wire struct and the standard parser (``_codec.decode_claims``), then decoded.

_RFC3339: Final = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?(?:Z|[+-][0-9]{2}:[0-9]{2})\Z"
)

NumericDate = Annotated[int, msgspec.Meta(ge=0, le=253402300799)]
"""RFC 7519 NumericDate restricted to integers that fit a ``datetime`` (years 1970-9999)."""

Rfc3339 = Annotated[str, msgspec.Meta(max_length=40, pattern=_RFC3339)]
"""The one RFC 3339 spelling PASETO accepts: upper-case ``T``, an explicit ``Z`` or offset."""


def _wire_struct(name: str, time_type: Any) -> Any:
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
_JWT_WIRE: Final = msgspec.json.Decoder(JwtWire)
_PASETO_WIRE: Final = msgspec.json.Decoder(PasetoWire)
_CLAIMS: Final = msgspec.json.Decoder(Claims)
# Lax mode converts NumericDate integers to aware datetimes. It is only ever run on bytes that already
# passed the strict JwtWire decode, so the only conversion left for it to do is int -> datetime.
_CLAIMS_FROM_NUMERICDATE: Final = msgspec.json.Decoder(Claims, strict=False)
_encode: Final = msgspec.json.Encoder().encode


def claims_to_jwt(claims: Claims) -> dict[str, Any]:
    """The JWT payload: NumericDate integers (whole seconds), absent optional claims omitted."""
    wire = JwtWire(
        sub=claims.sub,
        role=claims.role,
        perms=claims.perms,
        iat=int(claims.iat.timestamp()),
        nbf=None if claims.nbf is None else int(claims.nbf.timestamp()),
        exp=int(claims.exp.timestamp()),
        jti=claims.jti,
        iss=claims.iss,
        aud=claims.aud,
        fam=claims.fam,
        ver=claims.ver,
    )
    payload: dict[str, Any] = msgspec.to_builtins(wire)
    return payload


def claims_from_jwt(raw: bytes) -> Claims:
    """Decode a JWT payload: strict types and unique names first, then NumericDate -> datetime."""
    decode_claims(raw, _JWT_WIRE)
    return _CLAIMS_FROM_NUMERICDATE.decode(raw)


def _whole_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0) if moment.microsecond else moment


def claims_to_paseto(claims: Claims) -> bytes:
    """The PASETO payload: RFC 3339 times at whole seconds (``Z`` for UTC), absent optional claims omitted.

    Times are rounded down to the second, as the JWT formats' NumericDate integers are, so the same claims
    give tokens of the same size in every format whatever the clock's microseconds (``...T05:51:28Z``, not
    ``...T05:51:28.707747Z``). Verify still reads fractional seconds from other issuers.
    """
    if (
        claims.iat.microsecond
        or claims.exp.microsecond
        or (claims.nbf is not None and claims.nbf.microsecond)
    ):
        claims = msgspec.structs.replace(
            claims,
            iat=_whole_second(claims.iat),
            nbf=None if claims.nbf is None else _whole_second(claims.nbf),
            exp=_whole_second(claims.exp),
        )
    return _encode(claims)


def claims_from_paseto(raw: bytes) -> Claims:
    """Decode a PASETO payload; canonical payloads take one decode and one re-encode."""
    try:
        claims = _CLAIMS.decode(raw)
        if _encode(claims) == raw:
            return claims
    except (msgspec.DecodeError, ValueError):
        pass  # the strict path below says precisely what is wrong
    decode_claims(raw, _PASETO_WIRE)
    try:
        return _CLAIMS.decode(raw)
    except msgspec.ValidationError as exc:  # a well-spelled but impossible time, e.g. month 13
        raise TokenClaimsInvalid(str(exc)) from exc
