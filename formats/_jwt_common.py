"""JWS compact glue shared by ``jwt-hs256``, ``jwt-es256`` and ``jwt-eddsa``.

Issuing goes through pyjwt. Verifying is this module's own few lines, because it is the hot path and
because it must be stricter than pyjwt (which accepts ``=`` padding on the signature segment and
duplicate JSON members): exactly three segments of canonical base64url, a protected header that is
exactly ``{"alg", "kid", "typ"}`` with the format's one algorithm, a known key id, and ``typ`` ``at+jwt``
(access, RFC 9068) or ``rt+jwt`` (refresh). The differential tests check every decision against pyjwt
and joserfc.
"""

from __future__ import annotations

import hashlib
import json
from abc import abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar, Final, TypeVar

import jwt

from formats._codec import b64url_decode, b64url_encode, decode_json_object
from formats._ring import MAX_TOKEN_CHARS, RingFormat, check_kid
from formats._translate import library_errors
from formats.base import Kind
from formats.claims import Claims, check_claims, claims_from_jwt, claims_to_jwt
from formats.errors import (
    KeyConfigError,
    TokenMalformed,
    TokenUnknownKey,
    TokenWrongKind,
)

__all__ = [
    "JWT_TYP",
    "THUMBPRINT_MEMBERS",
    "JwtFormat",
    "header_segment",
    "jwk_bytes",
    "jwk_thumbprint",
    "jws_label",
    "parse_jwk",
    "thumbprint_of",
]

JWT_TYP: Final = {Kind.ACCESS: "at+jwt", Kind.REFRESH: "rt+jwt"}
_KIND_OF_TYP: Final = {typ: kind for kind, typ in JWT_TYP.items()}
_HEADER_MEMBERS: Final = frozenset({"alg", "kid", "typ"})

VK = TypeVar("VK")


def jws_label(alg: str) -> str:
    """The :attr:`formats.TokenFormat.token_label` of the JWS tokens whose protected header has ``alg``."""
    return "alg:" + alg


def header_segment(alg: str, kid: str, kind: Kind) -> str:
    """The protected header as pyjwt writes it (sorted members, no spaces), base64url-encoded."""
    header = {"alg": alg, "kid": kid, "typ": JWT_TYP[kind]}
    return b64url_encode(json.dumps(header, separators=(",", ":"), sort_keys=True).encode())


class JwtFormat(RingFormat[VK]):
    """A JWS compact format with one pinned algorithm; subclasses supply the primitive."""

    alg: ClassVar[str]
    public_document: ClassVar[str | None] = "jwks.json"
    token_label: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.token_label = jws_label(cls.alg)

    @classmethod
    def _entry_of_another_format(cls, entry: Mapping[str, Any]) -> bool:
        alg = entry.get("alg")  # a JWKS shared by two JWS formats: each takes the keys of its algorithm
        return isinstance(alg, str) and alg != cls.alg

    @classmethod
    def _public_key_text(cls, entry: Mapping[str, Any], *, source: str) -> str:  # noqa: ARG003
        return json.dumps(dict(entry))  # a JWKS entry is a JWK, the key-file text itself

    def _index_ring(self) -> None:
        # Header segments of every (key, kind) this ring can verify, spelled as issue() spells them: the
        # hot path finds its key with one dict lookup. Other spellings take the strict parse below.
        self._known_headers: dict[str, tuple[Kind, VK]] = {
            header_segment(self.alg, kid, kind): (kind, self._verify_key(key))
            for kid, key in self._keys.items()
            for kind in Kind
        }

    # --- per algorithm ------------------------------------------------------------------------------

    @abstractmethod
    def _verify_key(self, key: VK) -> Any:
        """The parsed object the primitive verifies with."""

    @abstractmethod
    def _signing_key(self) -> Any:
        """What pyjwt signs with (the active key)."""

    @abstractmethod
    def _check_signature(self, key: Any, signing_input: bytes, signature: bytes) -> None:
        """Raise TokenBadSignature unless ``signature`` is valid over ``signing_input``."""

    # --- issue / verify -----------------------------------------------------------------------------

    def issue(self, claims: Claims, *, kind: Kind) -> str:
        """Sign ``claims`` with the active key as a JWS compact token of ``kind``."""
        payload = claims_to_jwt(claims)
        kid = self._signer_kid()
        with library_errors():
            return jwt.encode(
                payload,
                self._signing_key(),
                algorithm=self.alg,
                headers={"kid": kid, "typ": JWT_TYP[kind]},
            )

    def _parse_header(self, segment: str) -> tuple[Kind, Any]:
        header = decode_json_object(b64url_decode(segment))
        if header.keys() != _HEADER_MEMBERS:
            raise TokenMalformed("JWS header must have exactly the members alg, kid and typ")
        if header["alg"] != self.alg:
            raise TokenMalformed(f"JWS alg must be {self.alg}")
        kind = _KIND_OF_TYP.get(header["typ"]) if isinstance(header["typ"], str) else None
        if kind is None:
            raise TokenMalformed("JWS typ must be at+jwt or rt+jwt")
        kid = header["kid"]
        if not isinstance(kid, str):
            raise TokenMalformed("JWS kid must be a string")
        key = self._keys.get(kid)
        if key is None:
            raise TokenUnknownKey("no key with this kid")
        return kind, self._verify_key(key)

    def verify(self, token: str, *, kind: Kind) -> Claims:
        """Verify a JWS compact token of ``kind`` and return its checked claims."""
        if len(token) > MAX_TOKEN_CHARS or not token.isascii():
            raise TokenMalformed("token too long or not ASCII")
        parts = token.split(".")
        if len(parts) != 3:
            raise TokenMalformed("JWS compact has three segments")
        header, payload, signature = parts
        known = self._known_headers.get(header)
        token_kind, key = known if known is not None else self._parse_header(header)
        self._check_signature(key, token[: len(header) + len(payload) + 1].encode(), b64url_decode(signature))
        if token_kind is not kind:
            raise TokenWrongKind(f"expected a {kind} token")
        claims = claims_from_jwt(b64url_decode(payload))
        return check_claims(claims, kind=kind, policy=self._policy, now=self._clock())


def jwk_thumbprint(members: dict[str, str]) -> str:
    """RFC 7638 thumbprint of the required members (sorted, no spaces): base64url of their SHA-256."""
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return b64url_encode(hashlib.sha256(canonical).digest())


def parse_jwk(text: str, *, source: str, kty: str, alg: str, fix: str) -> tuple[str, dict[str, Any]]:
    """Parse a JWK (RFC 7517) key file: a JSON object with ``kty``, ``kid`` and, if present, ``alg``.

    Every refusal names ``source`` and ends with ``fix`` (how to get a usable key for the format).
    """
    try:
        jwk = json.loads(text)
    except ValueError as exc:
        raise KeyConfigError(f"{source}: not a JWK (JSON); expected a {kty} JWK; {fix}") from exc
    if not isinstance(jwk, dict):
        raise KeyConfigError(f"{source}: a JWK is a JSON object; {fix}")
    if jwk.get("kty") != kty:
        raise KeyConfigError(f"{source}: JWK kty is {jwk.get('kty')!r}, this format needs {kty!r}; {fix}")
    if jwk.get("alg", alg) != alg:
        raise KeyConfigError(f"{source}: JWK alg is {jwk.get('alg')!r}, this format needs {alg!r}; {fix}")
    if "kid" not in jwk:
        raise KeyConfigError(f"{source}: JWK has no kid; add one or {fix}")
    kid = check_kid(jwk["kid"], source=source)
    _check_kid_is_thumbprint(jwk, kid, source=source, fix=fix)
    return kid, jwk


THUMBPRINT_MEMBERS: Final = {
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
    "RSA": ("e", "kty", "n"),
    "oct": ("k", "kty"),
}
"""The required members of each key type (RFC 7638 §3.2, RFC 8037 §2), the only ones a thumbprint covers."""


def thumbprint_of(jwk: Mapping[str, Any]) -> str | None:
    """The RFC 7638 thumbprint of ``jwk``; None when a required member is missing or not a string."""
    members = {name: jwk.get(name) for name in THUMBPRINT_MEMBERS.get(str(jwk.get("kty")), ())}
    if not members or not all(isinstance(value, str) for value in members.values()):
        return None
    return jwk_thumbprint({name: str(value) for name, value in members.items()})


def _check_kid_is_thumbprint(jwk: dict[str, Any], kid: str, *, source: str, fix: str) -> None:
    """Refuse a ``kid`` that is not the key's RFC 7638 thumbprint, as ``tokenbench keys generate`` writes it.

    A kid derived from the key names that key and no other: two different keys can never share a kid in
    a ring, a rotation, or a verifier's cache of the published JWKS, and anyone can recompute it. A JWK
    whose required members are missing is left to the format, which refuses it with the member's name.
    """
    expected = thumbprint_of(jwk)
    if expected is not None and kid != expected:
        raise KeyConfigError(
            f"{source}: JWK kid {kid!r} is not the key's RFC 7638 thumbprint; "
            f'set "kid" to "{expected}" (and re-issue tokens signed under the old kid) or {fix}'
        )


def jwk_bytes(jwk: dict[str, Any], member: str, *, source: str, fix: str) -> bytes:
    """A base64url member of a JWK, in its one canonical spelling."""
    value = jwk.get(member)
    if not isinstance(value, str):
        raise KeyConfigError(f"{source}: JWK member {member!r} is missing; {fix}")
    try:
        return b64url_decode(value)
    except TokenMalformed as exc:
        raise KeyConfigError(
            f"{source}: JWK member {member!r} is not canonical base64url ({exc}); {fix}"
        ) from exc
