"""PASETO v4 glue shared by ``paseto-v4-local`` and ``paseto-v4-public``.

Issuing goes through pyseto. Verifying is this module's own few lines, for the same two reasons as JWT:
it is the hot path (pyseto parses ISO 8601 times slowly and reaches Ed25519 through a slower binding), and
it must be stricter than pyseto, which accepts padded and non-canonical base64 (official vectors 4-F-4 and
4-F-5) and PASERK keys of the wrong length. Every decision is checked against pyseto and the official
vectors by the tests.

Kind binding: the implicit assertion ``tokenbench.access`` / ``tokenbench.refresh`` enters the MAC or
signature but is never transmitted, so a token of the other kind fails authentication. Telling a token
of the other kind (``token_wrong_kind``) from a forgery (``token_bad_signature``) must not cost a second
primitive per rejected token, or a flood of forgeries costs the server more than real traffic: each
format's ``_open`` finds the kind a token is bound to with one primitive (v4.local: two BLAKE2b tags over
one derived key; v4.public: one Ed25519 verification under the kind its payload claims). The footer is
exactly ``{"kid":"<PASERK id>"}``, authenticated too; the key is looked up by that id in the fixed ring
and never taken from the token (catalog PASETO-FOOTER-KEY-INJECTION).
"""

from __future__ import annotations

import hashlib
import struct
from abc import abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar, Final, TypeVar

import msgspec
import pyseto

from formats._codec import b64url_decode, b64url_encode, decode_json_object
from formats._ring import MAX_TOKEN_CHARS, RingFormat
from formats._translate import library_errors
from formats.base import Kind
from formats.claims import Claims, check_claims, claims_from_paseto, claims_to_paseto
from formats.errors import (
    KeyConfigError,
    TokenMalformed,
    TokenUnknownKey,
    TokenWrongKind,
)

__all__ = [
    "IMPLICIT_ASSERTION",
    "OTHER_KIND",
    "PasetoFormat",
    "footer_for",
    "pae",
    "parse_paserk",
    "paserk_id",
    "split_token",
]

IMPLICIT_ASSERTION: Final = {Kind.ACCESS: b"tokenbench.access", Kind.REFRESH: b"tokenbench.refresh"}
OTHER_KIND: Final = {Kind.ACCESS: Kind.REFRESH, Kind.REFRESH: Kind.ACCESS}
_ID_DIGEST_BYTES: Final = 33
_WRONG_KIND: Final = {kind: f"expected a {kind} token" for kind in Kind}

K = TypeVar("K")
_le64: Final = struct.Struct("<Q").pack


def pae(*pieces: bytes) -> bytes:
    """Pre-Authentication Encoding (PASETO Common.md): LE64(count) then LE64(len) || piece for each."""
    return _le64(len(pieces)) + b"".join([_le64(len(piece)) + piece for piece in pieces])


def split_token(token: str, header: str) -> tuple[bytes, str, bytes]:
    """Split ``header + body [+ "." + footer]``; return (body, footer segment, footer), all canonical."""
    if len(token) > MAX_TOKEN_CHARS or not token.isascii():
        raise TokenMalformed("token too long or not ASCII")
    if not token.startswith(header):
        raise TokenMalformed(f"not a {header.rstrip('.')} token")
    rest = token[len(header) :].split(".")
    if len(rest) > 2:
        raise TokenMalformed("PASETO has at most four segments")
    footer_segment = rest[1] if len(rest) == 2 else ""
    if len(rest) == 2 and not footer_segment:
        raise TokenMalformed("empty footer segment")
    return b64url_decode(rest[0]), footer_segment, b64url_decode(footer_segment)


def paserk_id(prefix: str, paserk: str) -> str:
    """PASERK id (``k4.lid.`` / ``k4.pid.`` / ``k4.sid.``): BLAKE2b-264 of the prefix and the PASERK."""
    digest = hashlib.blake2b((prefix + paserk).encode("ascii"), digest_size=_ID_DIGEST_BYTES).digest()
    return prefix + b64url_encode(digest)


def parse_paserk(text: str, *, source: str, accepted: dict[str, int]) -> tuple[str, bytes]:
    """Parse one of the ``accepted`` PASERK types (prefix -> key length); return (prefix, key bytes)."""
    for prefix, length in accepted.items():
        if text.startswith(prefix):
            try:
                data = b64url_decode(text[len(prefix) :])
            except TokenMalformed as exc:
                raise KeyConfigError(
                    f"{source}: {prefix.rstrip('.')} key is not canonical base64url ({exc}); "
                    "regenerate it with `tokenbench keys generate`"
                ) from exc
            if len(data) != length:
                raise KeyConfigError(
                    f"{source}: {prefix.rstrip('.')} key is {len(data)} bytes, it must be exactly {length}; "
                    "regenerate it with `tokenbench keys generate`"
                )
            return prefix, data
    found = ".".join(text.split(".")[:2])[:24]
    wanted = " or ".join(p.rstrip(".") for p in accepted)
    raise KeyConfigError(
        f"{source}: expected a PASERK {wanted} key, found {found!r} (wrong version, purpose or format); "
        "a key is bound to one version and purpose, so generate one with `tokenbench keys generate`"
    )


def footer_for(kid: str) -> bytes:
    """The one footer spelling this project issues."""
    return msgspec.json.encode({"kid": kid})


class PasetoFormat(RingFormat[K]):
    """A PASETO v4 format; subclasses supply the header and the authenticated ``_open``."""

    header: ClassVar[str]
    min_body: ClassVar[int]
    token_label: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.token_label = cls.header

    def _index_ring(self) -> None:
        # Footer segments as issue() spells them -> (kid, footer bytes): the hot path finds its key with
        # one dict lookup; any other spelling takes the strict parse in _key_for_footer.
        self._known_footers: dict[str, str] = {b64url_encode(footer_for(kid)): kid for kid in self._keys}

    @classmethod
    def _public_key_text(cls, entry: Mapping[str, Any], *, source: str) -> str:
        paserk = entry.get("paserk")
        if not isinstance(paserk, str):
            raise KeyConfigError(f"{source}: a PASERK document entry has a string member paserk")
        return paserk

    @abstractmethod
    def _check_signing_key(self, key: K) -> None:
        """Refuse an active key that cannot issue."""

    @abstractmethod
    def _pyseto_key(self) -> Any:
        """The active key as a pyseto key object, for issuing."""

    @abstractmethod
    def _open(self, key: K, body: bytes, footer: bytes, kind: Kind) -> tuple[Kind, bytes]:
        """The kind ``body`` is bound to and its authenticated message (empty if not ``kind``).

        ``kind`` is the kind presented; raise TokenBadSignature when the token authenticates as neither.
        """

    def issue(self, claims: Claims, *, kind: Kind) -> str:
        """Encrypt or sign ``claims`` with the active key, bound to ``kind`` by the implicit assertion."""
        payload = claims_to_paseto(claims)
        kid = self._signer_kid()
        with library_errors():
            token: bytes = pyseto.encode(
                self._pyseto_key(),
                payload,
                footer=footer_for(kid),
                implicit_assertion=IMPLICIT_ASSERTION[kind],
            )
        return token.decode("ascii")

    def _kid_of_footer(self, footer: bytes) -> str:
        if not footer:
            raise TokenUnknownKey("token has no footer with a key id")
        value = decode_json_object(footer)
        if value.keys() != {"kid"} or not isinstance(value["kid"], str):
            raise TokenMalformed('footer must be exactly {"kid": "<PASERK id>"}')
        return value["kid"]

    def verify(self, token: str, *, kind: Kind) -> Claims:
        """Verify a PASETO v4 token of ``kind`` and return its checked claims."""
        body, footer_segment, footer = split_token(token, self.header)
        if len(body) < self.min_body:
            raise TokenMalformed(f"{self.header} body is too short")
        kid = self._known_footers.get(footer_segment) or self._kid_of_footer(footer)
        key = self._keys.get(kid)
        if key is None:
            raise TokenUnknownKey("no key with this kid")
        bound, message = self._open(key, body, footer, kind)
        if bound is not kind:
            raise TokenWrongKind(_WRONG_KIND[kind])
        claims = claims_from_paseto(message)
        return check_claims(claims, kind=kind, policy=self._policy, now=self._clock())
