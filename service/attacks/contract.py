"""The contract's strings as an outside attacker spells them: error codes, header values, labels, key ids.

Written out here, never imported from ``formats``: the suite attacks the service as a client who read the
contract (``docs/design.md``, ``docs/formats.md``), so a change of any of these in ``formats`` shows up as
attacks answered with the wrong code or a control token refused, not as a suite that silently follows the
change. ``tests/attacks/test_contract_spelling.py`` compares each with what ``formats`` uses, and
``tests/formats/test_layering.py`` checks that the suite imports none of them.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import Any, Final

from formats import FormatName, Kind

__all__ = [
    "BAD_SIGNATURE",
    "CLAIMS_INVALID",
    "EXPIRED",
    "IMPLICIT_ASSERTION",
    "JWT_TYP",
    "LABEL",
    "MALFORMED",
    "NOT_YET_VALID",
    "REVOKED",
    "UNKNOWN_KEY",
    "WRONG_KIND",
    "footer_for",
    "jwk_thumbprint",
    "label_of",
    "paserk_id",
]

MALFORMED: Final = "token_malformed"
BAD_SIGNATURE: Final = "token_bad_signature"
EXPIRED: Final = "token_expired"
NOT_YET_VALID: Final = "token_not_yet_valid"
WRONG_KIND: Final = "token_wrong_kind"
UNKNOWN_KEY: Final = "token_unknown_key"
CLAIMS_INVALID: Final = "token_claims_invalid"
REVOKED: Final = "token_revoked"

JWT_TYP: Final[Mapping[Kind, str]] = {Kind.ACCESS: "at+jwt", Kind.REFRESH: "rt+jwt"}
"""The JWS ``typ`` header of each kind of token."""
IMPLICIT_ASSERTION: Final[Mapping[Kind, bytes]] = {
    Kind.ACCESS: b"tokenbench.access",
    Kind.REFRESH: b"tokenbench.refresh",
}
"""The PASETO implicit assertion of each kind of token."""
LABEL: Final[Mapping[FormatName, str]] = {
    FormatName.JWT_HS256: "alg:HS256",
    FormatName.JWT_ES256: "alg:ES256",
    FormatName.JWT_EDDSA: "alg:EdDSA",
    FormatName.PASETO_V4_LOCAL: "v4.local.",
    FormatName.PASETO_V4_PUBLIC: "v4.public.",
}
"""What names a token's format: the PASETO header, or the JWS protected header's ``alg``."""

_THUMBPRINT_MEMBERS: Final = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x"), "oct": ("k", "kty")}
"""RFC 7638 §3.2 and RFC 8037 §2: the required members a JWK thumbprint covers."""


def footer_for(kid: str) -> bytes:
    """The PASETO footer the service writes: exactly ``{"kid":"<PASERK id>"}``, no spaces."""
    return json.dumps({"kid": kid}, separators=(",", ":")).encode()


def paserk_id(prefix: str, paserk: str) -> str:
    """A PASERK id (``k4.lid.``, ``k4.pid.``): base64url of BLAKE2b-264 over the prefix and the PASERK."""
    digest = hashlib.blake2b((prefix + paserk).encode("ascii"), digest_size=33).digest()
    return prefix + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str | None:
    """The RFC 7638 thumbprint of ``jwk`` (the service's JWK ``kid``); None without its required members."""
    members = {name: jwk.get(name) for name in _THUMBPRINT_MEMBERS.get(str(jwk.get("kty")), ())}
    if not members or not all(isinstance(value, str) for value in members.values()):
        return None
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode("ascii")


def label_of(token: str) -> str | None:
    """The label a token wears (``v4.public.``, ``alg:ES256``), or None; nothing is verified."""
    first = token.split(".", 1)[0]
    if first.startswith("v") and first[1:].isdigit():
        purpose = token.split(".", 2)[1] if token.count(".") >= 2 else ""
        return f"{first}.{purpose}."
    try:
        header = json.loads(base64.urlsafe_b64decode(first + "=" * (-len(first) % 4)))
    except ValueError:
        return None
    alg = header.get("alg") if isinstance(header, dict) else None
    return f"alg:{alg}" if isinstance(alg, str) else None
