"""Strict decoding shared by every format: one accepted spelling of base64url and of a JSON object.

* base64url (RFC 4648 §5) without padding, with zero unused bits in the last character, nothing outside
  the alphabet (PASETO Common.md "Base64 Decoding"; official vectors 4-F-4 and 4-F-5).
* A JSON object in UTF-8 with unique member names (RFC 8259 §4 allows last-wins parsers; the PASETO spec
  and this project require uniqueness, catalog PARSE-DUPLICATE-JSON-KEYS).
"""

from __future__ import annotations

import binascii
import json
import re
from base64 import urlsafe_b64decode, urlsafe_b64encode
from typing import Any, Final

import msgspec

from formats.errors import TokenMalformed

__all__ = ["b64url_decode", "b64url_encode", "decode_json_object", "reject_duplicate_members"]

_B64URL: Final = re.compile(r"[A-Za-z0-9_-]*\Z")
_ALPHABET: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_VALUE: Final = {c: i for i, c in enumerate(_ALPHABET)}
_PAD: Final = ("", "", "==", "=")
# Bits of the last character that carry no data, by length mod 4 (1 is never valid).
_UNUSED_MASK: Final = (0, 0, 0b1111, 0b11)

_any_json: Final = msgspec.json.Decoder()


def b64url_encode(data: bytes) -> str:
    """Unpadded base64url."""
    return urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(segment: str) -> bytes:
    """Decode the one canonical unpadded base64url spelling of some bytes; raise TokenMalformed otherwise."""
    rem = len(segment) % 4
    if rem == 1 or _B64URL.match(segment) is None:
        raise TokenMalformed("not canonical unpadded base64url")
    if rem and _VALUE[segment[-1]] & _UNUSED_MASK[rem]:
        raise TokenMalformed("base64url has non-zero unused bits")
    try:
        return urlsafe_b64decode(segment + _PAD[rem])
    except (binascii.Error, ValueError) as exc:  # pragma: no cover - excluded by the checks above
        raise TokenMalformed("not base64url") from exc


def _pairs_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise TokenMalformed("duplicate member name in JSON object")
    return result


def reject_duplicate_members(raw: bytes, top_level: dict[str, Any]) -> None:
    """Raise TokenMalformed if any JSON object in ``raw`` repeats a member name.

    Fast path, exact for the flat objects tokens carry: without backslashes, ``"`` only delimits strings, so
    every ``:`` outside the strings separates one member; their count equals the number of distinct
    top-level names exactly when there are no duplicates and no nested objects. Anything else (escapes,
    nesting, a mismatch) takes the exact path through the standard parser.
    """
    if b"\\" not in raw and b"".join(raw.split(b'"')[::2]).count(b":") == len(top_level):
        return
    try:
        json.loads(raw, object_pairs_hook=_pairs_without_duplicates)
    except TokenMalformed:
        raise
    except (ValueError, RecursionError) as exc:
        raise TokenMalformed("payload is not JSON") from exc


def decode_json_object(raw: bytes) -> dict[str, Any]:
    """Decode a UTF-8 JSON object with unique member names."""
    try:
        value = _any_json.decode(raw)
    except (msgspec.DecodeError, RecursionError) as exc:
        raise TokenMalformed("not a JSON document") from exc
    if type(value) is not dict:
        raise TokenMalformed("not a JSON object")
    reject_duplicate_members(raw, value)
    return value
