"""Strict decoding shared by every format: one accepted spelling of base64url and of a JSON object.

* base64url (RFC 4648 §5) without padding, with zero unused bits in the last character, nothing outside
  the alphabet (PASETO Common.md "Base64 Decoding"; official vectors 4-F-4 and 4-F-5).
* A JSON object in UTF-8 with unique member names (RFC 8259 §4 allows last-wins parsers; the PASETO spec
  and this project require uniqueness, catalog PARSE-DUPLICATE-JSON-KEYS).
"""

from __future__ import annotations

import binascii
import json
from base64 import urlsafe_b64encode
from binascii import a2b_base64
from typing import Any, Final, TypeVar

import msgspec

from formats.errors import TokenClaimsInvalid, TokenMalformed

T = TypeVar("T")

__all__ = [
    "b64url_decode",
    "b64url_encode",
    "decode_claims",
    "decode_json_object",
    "reject_duplicate_members",
]

# Standard-alphabet translation for binascii; "+", "/" and "=" become "!", which binascii skips, so any
# character outside the base64url alphabet shortens the output and fails the length check below.
_TO_STANDARD: Final = bytes.maketrans(b"-_+/=", b"+/!!!")
_PAD: Final = (b"", b"", b"==", b"=")
_VALUE: Final = {
    c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
}
# Bits of the last character that carry no data, by length mod 4 (1 is never valid).
_UNUSED_MASK: Final = (0, 0, 0b1111, 0b11)

_any_json: Final = msgspec.json.Decoder()
_encoder: Final = msgspec.json.Encoder()


def b64url_encode(data: bytes) -> str:
    """Unpadded base64url."""
    return urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(segment: str) -> bytes:
    """Decode the one canonical unpadded base64url spelling of some bytes; raise TokenMalformed otherwise.

    Every character must be in the alphabet (checked by the output length: binascii skips the others, and
    one skipped character always shortens the output), the length must not be 1 mod 4, and the unused
    low bits of the last character must be zero.
    """
    n = len(segment)
    rem = n & 3
    if rem == 1:
        raise TokenMalformed("base64url length is 1 mod 4")
    try:
        raw = a2b_base64(segment.encode("ascii").translate(_TO_STANDARD) + _PAD[rem])
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise TokenMalformed("not base64url") from exc
    if len(raw) != (n * 3) >> 2:
        raise TokenMalformed("character outside the base64url alphabet")
    if rem and _VALUE[segment[-1]] & _UNUSED_MASK[rem]:
        raise TokenMalformed("base64url has non-zero unused bits")
    return raw


def _pairs_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise TokenMalformed("duplicate member name in JSON object")
    return result


def reject_duplicate_members(raw: bytes) -> None:
    """Raise TokenMalformed if any JSON object in ``raw`` repeats a member name (exact, at every depth).

    This runs the standard parser, so callers skip it when they can prove uniqueness more cheaply: a
    payload that is byte-for-byte the re-encoding of its decoded struct has no duplicates.
    """
    try:
        json.loads(raw, object_pairs_hook=_pairs_without_duplicates)
    except TokenMalformed:
        raise
    except (ValueError, RecursionError) as exc:
        raise TokenMalformed("not a JSON document") from exc


def decode_json_object(raw: bytes) -> dict[str, Any]:
    """Decode a UTF-8 JSON object with unique member names."""
    try:
        value = _any_json.decode(raw)
    except (msgspec.DecodeError, ValueError, RecursionError) as exc:  # ValueError: invalid UTF-8
        raise TokenMalformed("not a JSON document") from exc
    if type(value) is not dict:
        raise TokenMalformed("not a JSON object")
    reject_duplicate_members(raw)
    return value


def decode_claims(raw: bytes, decoder: msgspec.json.Decoder[T]) -> T:
    """Decode a claims payload into its typed wire struct, with unique member names.

    Uniqueness costs nothing for payloads in canonical form (the re-encoding of the decoded struct, which
    is what this project issues); any other spelling takes the exact check of the standard parser.
    """
    try:
        value = decoder.decode(raw)
    except msgspec.ValidationError as exc:
        decode_json_object(raw)  # not one JSON object with unique names: malformed, not merely mistyped
        raise TokenClaimsInvalid(str(exc)) from exc
    except (msgspec.DecodeError, ValueError, RecursionError) as exc:  # ValueError: invalid UTF-8
        raise TokenMalformed("payload is not JSON") from exc
    if _encoder.encode(value) != raw:
        reject_duplicate_members(raw)
    return value
