"""What the teaching page shows: a token's anatomy, the same claims in every format, and lab specimens.

* :func:`anatomy` cuts a token into coloured spans (header or footer, payload or ciphertext, signature or
  tag) from :func:`formats.inspect.explain`'s parts, so a new format needs no change here or in the page.
* :func:`comparison` issues the caller's claims in every :class:`formats.FormatName` with throwaway keys
  (:func:`formats.ephemeral`): what the token *would* look like in each format. Those keys live in this
  process only and verify nothing, so no comparison token is ever accepted by the service.
* :func:`expired_specimen` and :func:`wrong_kind_specimen` are hostile tokens for the page's attack
  panel that a browser cannot make itself (they need the service's key); both are refused by every
  route (``token_expired``, ``token_wrong_kind``), and the refresh specimen's family does not exist, so
  it cannot refresh or log anything out either.
"""

from __future__ import annotations

import functools
import secrets
from datetime import datetime, timedelta
from typing import Final, Literal

import msgspec

from formats import Claims, FormatName, Kind, TokenFormat, ephemeral
from formats.inspect import InspectError, Part, TokenReport, explain

__all__ = [
    "Anatomy",
    "Span",
    "anatomy",
    "comparison",
    "expired_specimen",
    "wrong_kind_specimen",
]

Role = Literal["envelope", "claims", "nonce", "proof", "separator", "other"]

ROLES: Final[dict[str, Role]] = {
    "header": "envelope",
    "footer": "envelope",
    "payload": "claims",
    "body.message": "claims",
    "body.ciphertext": "claims",
    "body.nonce": "nonce",
    "signature": "proof",
    "body.signature": "proof",
    "body.tag": "proof",
}
"""How each part of :func:`formats.inspect.explain` is coloured: what it is *for*, across formats."""

_SPECIMEN_AGE: Final = timedelta(days=1)


class Span(msgspec.Struct, frozen=True):
    """A run of the token's characters that belongs to one part (``text`` is exactly as sent)."""

    part: str
    role: Role
    text: str
    bytes: int
    """Decoded bytes of the part (0 for a separator)."""


class Anatomy(msgspec.Struct, frozen=True, kw_only=True):
    """One token taken apart, for the inspector."""

    format: str
    running: bool
    """True for the token the service issued; False for a comparison token with throwaway keys."""
    token: str
    spans: tuple[Span, ...]
    report: TokenReport | None
    problem: str | None = None
    """Why ``explain`` could not read the token (then ``spans`` is the whole token, unlabelled)."""


def _byte_to_char(offset: int) -> int:
    """The base64url character where decoded byte ``offset`` starts (4 characters per 3 bytes)."""
    return (offset * 4) // 3


def _spans(token: str, report: TokenReport) -> tuple[Span, ...]:
    """Wire parts in order, a body subdivided by its decoded parts (nonce, ciphertext, tag, ...)."""
    spans: list[Span] = []
    position = 0
    parts = list(report.parts)
    for index, part in enumerate(parts):
        if part.wire_bytes is None:
            continue
        text = token[position : position + part.wire_bytes]
        inner = [p for p in parts[index + 1 :] if p.wire_bytes is None and p.name.startswith(f"{part.name}.")]
        if inner:
            start = 0
            for sub in inner:
                last = sub is inner[-1]
                end = len(text) if last else _byte_to_char(_offset(inner, sub) + sub.decoded_bytes)
                spans.append(Span(sub.name, ROLES.get(sub.name, "other"), text[start:end], sub.decoded_bytes))
                start = end
        else:
            spans.append(Span(part.name, ROLES.get(part.name, "other"), text, part.decoded_bytes))
        position += part.wire_bytes
        if token[position : position + 1] == ".":
            spans.append(Span(".", "separator", ".", 0))
            position += 1
    if position < len(token):
        spans.append(Span("rest", "other", token[position:], 0))
    return tuple(spans)


def _offset(inner: list[Part], sub: Part) -> int:
    """Decoded bytes before ``sub`` in its segment."""
    return sum(part.decoded_bytes for part in inner[: inner.index(sub)])


def anatomy(token: str, *, running: bool) -> Anatomy:
    """``token`` taken apart; a token ``explain`` cannot read comes back whole, with the reason."""
    try:
        report = explain(token)
    except InspectError as exc:
        return Anatomy(
            format="unknown",
            running=running,
            token=token,
            spans=(Span("token", "other", token, len(token)),),
            report=None,
            problem=str(exc),
        )
    return Anatomy(
        format=report.format.value, running=running, token=token, spans=_spans(token, report), report=report
    )


@functools.cache
def _throwaway(name: FormatName) -> TokenFormat:
    """One format with keys made for the comparison only (per process, never written anywhere)."""
    return ephemeral(name)


def comparison(claims: Claims, *, running: TokenFormat, token: str) -> tuple[Anatomy, ...]:
    """``claims`` as every format carries them, in :class:`FormatName` order.

    The running format shows its real ``token``; the others are freshly issued with throwaway keys (same
    claims, so only the format differs).
    """
    views = []
    for name in FormatName:
        if name is running.name:
            views.append(anatomy(token, running=True))
        else:
            views.append(anatomy(_throwaway(name).issue(claims, kind=Kind.ACCESS), running=False))
    return tuple(views)


def expired_specimen(fmt: TokenFormat, claims: Claims, *, now: datetime) -> str:
    """An access token for the caller, signed with the service's key, that expired a day ago."""
    issued = now - 2 * _SPECIMEN_AGE
    return fmt.issue(
        msgspec.structs.replace(
            claims, iat=issued, nbf=issued, exp=now - _SPECIMEN_AGE, jti=secrets.token_urlsafe(16)
        ),
        kind=Kind.ACCESS,
    )


def wrong_kind_specimen(fmt: TokenFormat, claims: Claims, *, now: datetime) -> str:
    """A refresh token for the caller, of a family that was never started.

    Refused as a bearer token (``token_wrong_kind``), and by ``/auth/refresh`` too (no such session).
    """
    return fmt.issue(
        msgspec.structs.replace(
            claims,
            perms=(),
            iat=now,
            nbf=now,
            exp=now + timedelta(minutes=5),
            jti=secrets.token_urlsafe(16),
            fam=f"specimen-{secrets.token_urlsafe(12)}",
            ver=0,
        ),
        kind=Kind.REFRESH,
    )
