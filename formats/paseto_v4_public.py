"""``paseto-v4-public``: Ed25519 signatures; public keys published as PASERK ``k4.public``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Final

import msgspec
import nacl.bindings
import pyseto

from formats._codec import b64url_encode
from formats._ed25519 import ed25519_verify
from formats._paseto_common import IMPLICIT_ASSERTION, PasetoFormat, pae, parse_paserk, paserk_id
from formats.base import FormatName, Kind
from formats.errors import KeyConfigError, TokenBadSignature, TokenMalformed

__all__ = ["Ed25519Key", "PasetoV4Public", "claimed_kind", "ed25519_verify", "open_bound", "verify_signature"]

HEADER: Final = "v4.public."
_SIG: Final = 64
_PUBLIC: Final = 32
_SECRET: Final = 64
_HEADER_BYTES: Final = HEADER.encode()


@dataclass(frozen=True, slots=True)
class Ed25519Key:
    """A ring entry: the public key, and the libsodium secret key (seed || public) when we can sign."""

    public: bytes
    secret: bytes | None

    @property
    def public_paserk(self) -> str:
        """``k4.public.<base64url>``."""
        return "k4.public." + b64url_encode(self.public)


class _Shape(msgspec.Struct):
    """The members of a payload that say which kind it claims to be (read before authentication)."""

    fam: object = None
    ver: object = None


_shape: Final = msgspec.json.Decoder(_Shape)


def verify_signature(public: bytes, body: bytes, footer: bytes, implicit: bytes) -> bytes | None:
    """PASETO v4 Verify steps 3-6 (Ed25519 via libsodium): the message, or None if the signature fails."""
    if len(body) <= _SIG:
        raise TokenMalformed("v4.public body is not longer than a signature")
    message, signature = body[:-_SIG], body[-_SIG:]
    if not ed25519_verify(public, pae(_HEADER_BYTES, message, footer, implicit), signature):
        return None
    return message


def claimed_kind(message: bytes, presented: Kind) -> Kind:
    """The kind to check an (unauthenticated) v4.public payload under: the other kind only if it claims it.

    A payload claims refresh with a string ``fam`` and an integer ``ver``, access with neither; one that
    claims the other kind than the one presented is checked as that kind (a token of the other kind is then
    refused as such), anything else as the presented kind (so its claims are judged after the signature).
    """
    try:
        shape = _shape.decode(message)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return presented
    if presented is Kind.ACCESS:
        claims_refresh = isinstance(shape.fam, str) and type(shape.ver) is int
        return Kind.REFRESH if claims_refresh else presented
    return Kind.ACCESS if shape.fam is None and shape.ver is None else presented


def open_bound(public: bytes, body: bytes, footer: bytes, kind: Kind) -> tuple[Kind, bytes]:
    """The kind ``body`` is bound to and its message; TokenBadSignature if it does not verify.

    One Ed25519 verification per token, never two: under the implicit assertion :func:`claimed_kind`
    picks from the payload. A token of the other kind verifies under its own assertion and is
    then refused as the wrong kind; a forgery fails the one verification, whatever kind its payload
    claims, so rejecting it costs what accepting a valid token does. A token whose payload claims one
    kind while its signature binds the other (tokenbench never issues one) is a bad signature.
    """
    if len(body) <= _SIG:
        raise TokenMalformed("v4.public body is not longer than a signature")
    message, signature = body[:-_SIG], body[-_SIG:]
    bound = claimed_kind(message, kind)
    if not ed25519_verify(public, pae(_HEADER_BYTES, message, footer, IMPLICIT_ASSERTION[bound]), signature):
        raise TokenBadSignature("authentication failed")
    return bound, message


class PasetoV4Public(PasetoFormat[Ed25519Key]):
    """v4.public with ``k4.secret`` (or verify-only ``k4.public``) PASERK files and ``k4.pid`` key ids."""

    name: ClassVar = FormatName.PASETO_V4_PUBLIC
    key_file_suffix: ClassVar = ".paserk"
    header: ClassVar = HEADER
    min_body: ClassVar = _SIG + 1  # a claims payload is never empty
    public_document: ClassVar[str | None] = "paserk.json"

    @classmethod
    def parse_key(cls, text: str, *, source: str) -> tuple[str, Ed25519Key]:
        """A ``k4.secret`` (seed || public, 64 bytes, halves consistent) or ``k4.public`` (32 bytes)."""
        prefix, data = parse_paserk(
            text, source=source, accepted={"k4.secret.": _SECRET, "k4.public.": _PUBLIC}
        )
        if prefix == "k4.public.":
            key = Ed25519Key(public=data, secret=None)
        else:
            public, secret = nacl.bindings.crypto_sign_seed_keypair(data[:32])
            if public != data[32:]:
                raise KeyConfigError(
                    f"{source}: k4.secret public half does not match its seed (damaged or hand-edited key); "
                    "regenerate it with `tokenbench keys generate --format paseto-v4-public`"
                )
            key = Ed25519Key(public=public, secret=secret)
        return paserk_id("k4.pid.", key.public_paserk), key

    @classmethod
    def generate_key_text(cls) -> str:
        """A new Ed25519 key as a ``k4.secret`` PASERK."""
        _, secret = nacl.bindings.crypto_sign_keypair()
        return "k4.secret." + b64url_encode(secret)

    @classmethod
    def _material(cls, key: Ed25519Key) -> bytes | None:
        return None if key.secret is None else key.secret[:32]

    @classmethod
    def _public_bytes(cls, key: Ed25519Key) -> bytes:
        return key.public

    def _check_signing_key(self, key: Ed25519Key) -> None:
        if key.secret is None:
            raise KeyConfigError(
                f"the newest {self.name} key {self._active_kid!r} is a k4.public key and cannot sign; "
                "add a k4.secret key or run `tokenbench keys rotate --format paseto-v4-public`"
            )
        self._issuer = pyseto.Key.from_paserk("k4.secret." + b64url_encode(key.secret))

    def _pyseto_key(self) -> Any:
        return self._issuer

    def _open(self, key: Ed25519Key, body: bytes, footer: bytes, kind: Kind) -> tuple[Kind, bytes]:
        return open_bound(key.public, body, footer, kind)

    def well_known(self) -> Mapping[str, Any]:
        """``paserk.json``: the public keys of the ring as ``k4.public`` with their ``k4.pid``."""
        return {
            "paserk.json": {"keys": [{"kid": k, "paserk": self._keys[k].public_paserk} for k in self.kids]}
        }
