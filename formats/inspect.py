"""Explain a token without a key: its format, header or footer, claims (or "encrypted"), key id and sizes.

    >>> from formats.inspect import explain
    >>> report = explain(token)          # doctest: +SKIP
    >>> report.format, report.key_id, report.total_bytes   # doctest: +SKIP

Nothing here verifies anything. The report says what a token *carries*, never whether it is valid: the
signature, the expiry and every other claim rule are only checked by ``TokenFormat.verify`` with the key.
Where the token's shape alone shows that every tokenbench format would refuse it (an unknown ``typ``, an
extra header member, a missing footer, an oversized token), a note says so.

Parsing is as strict as verification (canonical base64url, one JSON object with unique member names), so
a token ``explain`` reads is spelled the way tokenbench issues it. Anything else raises
:class:`InspectError`, a ``ValueError`` whose message says what is wrong.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final, Literal

import msgspec

from formats._codec import b64url_decode, decode_json_object
from formats._ring import MAX_TOKEN_CHARS
from formats.base import FormatName, Kind
from formats.errors import TokenMalformed

__all__ = ["InspectError", "Part", "TokenReport", "explain"]

NOT_VERIFIED: Final = "decoded without a key: signature, expiry and claims are NOT checked"

_JWT_FORMATS: Final = {
    "HS256": FormatName.JWT_HS256,
    "ES256": FormatName.JWT_ES256,
    "EdDSA": FormatName.JWT_EDDSA,
}
_JWT_KINDS: Final = {"at+jwt": Kind.ACCESS, "rt+jwt": Kind.REFRESH}
_JWT_HEADER: Final = frozenset({"alg", "kid", "typ"})
_PASETO_FORMATS: Final = {"v4.local.": FormatName.PASETO_V4_LOCAL, "v4.public.": FormatName.PASETO_V4_PUBLIC}
_TIME_CLAIMS: Final = ("iat", "nbf", "exp")
_NONCE: Final = 32
_TAG: Final = 32
_SIGNATURE: Final = 64


class InspectError(ValueError):
    """The text is not a token of any tokenbench format (or not spelled as one); the message says why."""


class Part(msgspec.Struct, frozen=True):
    """One part of a token: its name, its length on the wire and its decoded length, in bytes.

    ``wire_bytes`` is None for parts that only exist inside a decoded segment (``body.nonce``, ...).
    """

    name: str
    wire_bytes: int | None
    decoded_bytes: int


class TokenReport(msgspec.Struct, frozen=True, kw_only=True):
    """What a token carries, read without a key. Never a statement that the token is valid."""

    format: FormatName
    kind: Kind | None
    """From the JWT ``typ``; None for PASETO, whose kind is bound by the (never sent) implicit assertion."""
    key_id: str | None
    header: dict[str, object] | None
    """The JWS protected header (JWT only)."""
    footer: dict[str, object] | str | None
    """The PASETO footer: a JSON object, or its text if it is not one; None if absent or JWT."""
    claims: dict[str, object] | Literal["encrypted"]
    """The payload as sent (wire form), or ``"encrypted"`` for v4.local."""
    times: dict[str, str]
    """``iat``/``nbf``/``exp`` as RFC 3339 UTC, when the claims are readable and the value is a time."""
    parts: tuple[Part, ...]
    total_bytes: int
    notes: tuple[str, ...]


def explain(token: str) -> TokenReport:
    """Describe ``token`` without verifying it; raise :class:`InspectError` if it is no tokenbench token."""
    token = token.strip()
    if not token:
        raise InspectError("empty token")
    if not token.isascii():
        raise InspectError("a token is ASCII; this text has other characters")
    notes = [NOT_VERIFIED]
    if len(token) > MAX_TOKEN_CHARS:
        notes.append(
            f"{len(token)} characters: every tokenbench format refuses tokens over {MAX_TOKEN_CHARS}"
        )
    if token[:1] == "v" and token[1:2].isdigit():
        return _explain_paseto(token, notes)
    segments = token.split(".")
    if len(segments) == 3:
        return _explain_jws(token, segments, notes)
    if len(segments) == 5:
        raise InspectError("five segments: a JWE (encrypted JWT), which is not a tokenbench format")
    raise InspectError(
        f"{len(segments)} dot-separated segments: expected a JWS compact token (header.payload.signature) "
        "or a PASETO token starting with v4.local. or v4.public."
    )


def _decode(segment: str, what: str) -> bytes:
    try:
        return b64url_decode(segment)
    except TokenMalformed as exc:
        raise InspectError(f"{what}: {exc}") from exc


def _json_object(raw: bytes, what: str) -> dict[str, object]:
    try:
        return decode_json_object(raw)
    except TokenMalformed as exc:
        raise InspectError(f"{what}: {exc}") from exc


def _times(claims: dict[str, object]) -> dict[str, str]:
    times = {}
    for name in _TIME_CLAIMS:
        value = claims.get(name)
        moment: datetime | None = None
        if type(value) is int:
            try:
                moment = datetime.fromtimestamp(value, UTC)
            except (OverflowError, OSError, ValueError):
                moment = None
        elif isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                moment = None
        if moment is not None and moment.tzinfo is not None:
            times[name] = moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return times


def _explain_jws(token: str, segments: list[str], notes: list[str]) -> TokenReport:
    header_segment, payload_segment, signature_segment = segments
    header_bytes = _decode(header_segment, "JWS header segment")
    header = _json_object(header_bytes, "JWS header")
    alg = header.get("alg")
    name = _JWT_FORMATS.get(alg) if isinstance(alg, str) else None
    if name is None:
        raise InspectError(f"JWS with alg {alg!r}: tokenbench's JWT formats are {', '.join(_JWT_FORMATS)}")
    payload_bytes = _decode(payload_segment, "JWS payload segment")
    claims = _json_object(payload_bytes, "JWS payload")
    signature = _decode(signature_segment, "JWS signature segment")
    typ, kid = header.get("typ"), header.get("kid")
    kind = _JWT_KINDS.get(typ) if isinstance(typ, str) else None
    if header.keys() != _JWT_HEADER:
        notes.append("header members are not exactly alg, kid and typ: tokenbench refuses it")
    elif kind is None:
        notes.append(f"typ {typ!r} is neither at+jwt nor rt+jwt: tokenbench refuses it")
    return TokenReport(
        format=name,
        kind=kind,
        key_id=kid if isinstance(kid, str) else None,
        header=header,
        footer=None,
        claims=claims,
        times=_times(claims),
        parts=(
            Part("header", len(header_segment), len(header_bytes)),
            Part("payload", len(payload_segment), len(payload_bytes)),
            Part("signature", len(signature_segment), len(signature)),
        ),
        total_bytes=len(token),
        notes=tuple(notes),
    )


def _explain_paseto(token: str, notes: list[str]) -> TokenReport:
    header = next((h for h in _PASETO_FORMATS if token.startswith(h)), None)
    if header is None:
        found = ".".join(token.split(".")[:2])
        raise InspectError(f"PASETO {found!r} is not a tokenbench format (v4.local, v4.public)")
    name = _PASETO_FORMATS[header]
    rest = token[len(header) :].split(".")
    if len(rest) > 2:
        raise InspectError("PASETO has at most four segments: header, body and an optional footer")
    body_segment = rest[0]
    body = _decode(body_segment, f"{header.rstrip('.')} body")
    parts = [Part("header", len(header), len(header)), Part("body", len(body_segment), len(body))]
    claims: dict[str, object] | Literal["encrypted"]
    if name is FormatName.PASETO_V4_LOCAL:
        if len(body) < _NONCE + _TAG:
            raise InspectError(f"v4.local body is {len(body)} bytes, shorter than its nonce and tag (64)")
        claims = "encrypted"
        parts += [
            Part("body.nonce", None, _NONCE),
            Part("body.ciphertext", None, len(body) - _NONCE - _TAG),
            Part("body.tag", None, _TAG),
        ]
    else:
        if len(body) <= _SIGNATURE:
            raise InspectError(f"v4.public body is {len(body)} bytes, not longer than its signature (64)")
        claims = _json_object(body[:-_SIGNATURE], "v4.public message")
        parts += [
            Part("body.message", None, len(body) - _SIGNATURE),
            Part("body.signature", None, _SIGNATURE),
        ]
    footer: dict[str, object] | str | None = None
    key_id = None
    if len(rest) == 2:
        footer_bytes = _decode(rest[1], f"{header.rstrip('.')} footer")
        parts.append(Part("footer", len(rest[1]), len(footer_bytes)))
        try:
            footer = _json_object(footer_bytes, "footer")
        except InspectError:
            footer = footer_bytes.decode("utf-8", "backslashreplace")
        if isinstance(footer, dict) and isinstance(footer.get("kid"), str):
            key_id = str(footer["kid"])
        if not isinstance(footer, dict) or footer.keys() != {"kid"}:
            notes.append('footer is not exactly {"kid": ...}: tokenbench refuses it')
    else:
        notes.append("no footer, so no key id: tokenbench refuses it (token_unknown_key)")
    return TokenReport(
        format=name,
        kind=None,
        key_id=key_id,
        header=None,
        footer=footer,
        claims=claims,
        times={} if isinstance(claims, str) else _times(claims),
        parts=tuple(parts),
        total_bytes=len(token),
        notes=tuple(notes),
    )
