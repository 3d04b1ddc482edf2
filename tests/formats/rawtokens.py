"""Tokens with arbitrary payloads, signed or encrypted with a ring's own key, for the formats suite.

``issue`` only ever writes well-formed claims in the one canonical spelling, so it cannot reach the claim
type checks or the strict parser. A :class:`Forger` can: from a format's key text (the JWK or PASERK a key
file holds) it builds tokens with any payload bytes, any header or footer and any spelling of the payload
segment, correctly signed or encrypted, so a refusal of such a token is the parser's or the claim check's
doing, never a bad signature. The cryptography is :mod:`formats.forge` (shared with the attack suite);
this module adds the format conventions (kind binding, key id) and the spellings.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any, Final

from formats import FORMATS, Claims, FormatName, Kind, forge

Spelling = Callable[[bytes], str]

JWT_FORMATS: Final = frozenset({FormatName.JWT_HS256, FormatName.JWT_ES256, FormatName.JWT_EDDSA})
TYP: Final = {Kind.ACCESS: "at+jwt", Kind.REFRESH: "rt+jwt"}
IMPLICIT: Final = {Kind.ACCESS: b"tokenbench.access", Kind.REFRESH: b"tokenbench.refresh"}
ALG: Final = {FormatName.JWT_HS256: "HS256", FormatName.JWT_ES256: "ES256", FormatName.JWT_EDDSA: "EdDSA"}
# Bytes the payload segment carries besides the payload: nonce + tag (local), signature (public).
_BODY_OVERHEAD: Final = {
    FormatName.JWT_HS256: 0,
    FormatName.JWT_ES256: 0,
    FormatName.JWT_EDDSA: 0,
    FormatName.PASETO_V4_LOCAL: 64,
    FormatName.PASETO_V4_PUBLIC: 64,
}
_ALPHABET: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


# --- spellings of one base64url segment ----------------------------------------------------------------


def canonical(data: bytes) -> str:
    """The one accepted spelling: base64url, no padding, zero unused bits."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def padded(data: bytes) -> str:
    """base64url with ``=`` padding (RFC 4648 §5 allows it; JWS and PASETO forbid it; vector 4-F-5)."""
    return base64.urlsafe_b64encode(data).decode("ascii")


def trailing_bits(data: bytes) -> str:
    """Canonical base64url with the unused low bits of the last character set (vector 4-F-4)."""
    text = canonical(data)
    unused = {2: 0b1111, 3: 0b11}[len(text) % 4]  # KeyError: this length has no unused bits
    return text[:-1] + _ALPHABET[_ALPHABET.index(text[-1]) | unused]


def std_alphabet(data: bytes) -> str:
    """Unpadded base64 in the standard alphabet (``+`` and ``/`` where base64url has ``-`` and ``_``)."""
    return base64.b64encode(data).rstrip(b"=").decode("ascii")


# --- payloads --------------------------------------------------------------------------------------------


def wire_claims(name: FormatName, claims: Claims) -> dict[str, Any]:
    """``claims`` as the JSON object ``name`` issues (NumericDate for JWT, RFC 3339 for PASETO)."""
    wire = forge.jwt_payload(claims) if name in JWT_FORMATS else forge.paseto_payload(claims)
    result: dict[str, Any] = json.loads(json_bytes(wire))  # plain JSON values: lists, not tuples
    return result


def json_bytes(value: object) -> bytes:
    """Compact JSON, members in the order given."""
    return json.dumps(value, separators=(",", ":")).encode()


def _decoded(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def with_flipped_tag(token: str) -> str:
    """``token`` with one bit of its JWS signature or PASETO tag/signature flipped, spelled canonically."""
    if token.startswith("v4."):
        head, body_segment, *footer = token.split(".")[1:]
        body = bytearray(_decoded(body_segment))
        body[-1] ^= 1
        return ".".join(["v4", head, canonical(bytes(body)), *footer])
    header, payload, signature_segment = token.split(".")
    signature = bytearray(_decoded(signature_segment))
    signature[0] ^= 1
    return f"{header}.{payload}.{canonical(bytes(signature))}"


# --- the forger ------------------------------------------------------------------------------------------


class Forger:
    """Builds tokens of format ``name`` with the key in ``key_text`` (a JWK or PASERK, as in a key file)."""

    def __init__(self, name: FormatName, key_text: str) -> None:
        self.name = FormatName(name)
        self.kid = FORMATS[self.name].key_id_of(key_text, source="<forger>")
        self.is_jwt = self.name in JWT_FORMATS
        if self.name is FormatName.JWT_HS256:
            self._sign = forge.hmac_signer(forge.jwk_secret(key_text))
        elif self.name is FormatName.JWT_ES256:
            self._sign = forge.ecdsa_signer(forge.jwk_ec_private_key(key_text))
        elif self.name is FormatName.JWT_EDDSA:
            self._sign = forge.ed25519_signer(forge.jwk_okp_seed(key_text))
        else:
            self._key = forge.paserk_bytes(key_text)

    def envelope(self, kind: Kind = Kind.ACCESS) -> bytes:
        """What the format issues around the payload: the JWS header, or the PASETO footer."""
        if self.is_jwt:
            return json_bytes({"alg": ALG[self.name], "kid": self.kid, "typ": TYP[kind]})
        return json_bytes({"kid": self.kid})

    def fit(self, payload: bytes) -> bytes:
        """``payload`` plus JSON whitespace, so the payload segment's last character has 4 unused bits."""
        while (len(payload) + _BODY_OVERHEAD[self.name]) % 3 != 1:
            payload += b" "
        return payload

    def token(
        self,
        payload: bytes,
        *,
        kind: Kind = Kind.ACCESS,
        envelope: bytes | None = None,
        spell: Spelling = canonical,
        nonce: bytes | None = None,
    ) -> str:
        """A correctly signed or encrypted token of ``payload``, bound to ``kind``.

        ``envelope`` replaces the JWS header or PASETO footer (``b""``: no PASETO footer); ``spell``
        spells the payload segment (JWT: before signing) or body segment (PASETO); ``nonce`` fixes the
        v4.local nonce.
        """
        envelope = self.envelope(kind) if envelope is None else envelope
        if self.is_jwt:
            signing_input = f"{canonical(envelope)}.{spell(payload)}"
            return f"{signing_input}.{canonical(self._sign(signing_input.encode('ascii')))}"
        if self.name is FormatName.PASETO_V4_LOCAL:
            token = forge.v4_local(self._key, payload, footer=envelope, implicit=IMPLICIT[kind], nonce=nonce)
        else:
            token = forge.v4_public(self._key, payload, footer=envelope, implicit=IMPLICIT[kind])
        header, body, _ = forge.paseto_split(token)
        return header + spell(body) + ("." + canonical(envelope) if envelope else "")

    def claims_token(self, claims: Claims, *, kind: Kind = Kind.ACCESS, **changes: object) -> str:
        """A token of ``claims`` in wire form with members replaced, or removed when the value is ``...``."""
        wire = wire_claims(self.name, claims)
        for member, value in changes.items():
            if value is ...:
                del wire[member]
            else:
                wire[member] = value
        return self.token(json_bytes(wire), kind=kind)
