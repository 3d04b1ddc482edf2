"""What the token-level benchmarks measure: one realistic access and refresh token per format.

A :class:`Subject` holds, for one format, the key text, a tokenbench format built from it, a valid access
and refresh token, and two tokens that must be rejected: one with a bad signature (one bit of the
signature or tag flipped) and one that is garbage of the same length. The floors (``benchmarks.floor``)
and the peers (``benchmarks.peers``) are built from the same key text, so every row of a format's table
verifies the same bytes with the same key.
"""

from __future__ import annotations

import json
import secrets
import string
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import msgspec

from formats import ClaimPolicy, Claims, FormatName, Kind, TokenFormat, load
from formats.keys import generate_key_file

__all__ = [
    "AUDIENCE",
    "ISSUER",
    "Subject",
    "access_claims",
    "build_subject",
    "flip_signature_bit",
    "refresh_claims",
]

ISSUER: Final = "https://auth.tokenbench.example"
AUDIENCE: Final = "tokenbench-api"
ACCESS_TTL: Final = timedelta(minutes=15)
REFRESH_TTL: Final = timedelta(days=7)
POLICY: Final = ClaimPolicy(leeway=30, issuer=ISSUER, audience=AUDIENCE)


def access_claims(now: datetime | None = None) -> Claims:
    """Claims of a typical access token: a user with a role and three permissions, 15 minutes."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    return Claims(
        sub="3f6c2a9e-8d41-4b7a-9c1e-5a2b7d9e0f13",
        role="editor",
        perms=("articles:read", "articles:write", "comments:moderate"),
        iat=now,
        nbf=now,
        exp=now + ACCESS_TTL,
        jti=uuid.uuid4().hex,
        iss=ISSUER,
        aud=AUDIENCE,
    )


def refresh_claims(now: datetime | None = None) -> Claims:
    """Claims of a refresh token of the same user: family and rotation counter, 7 days."""
    access = access_claims(now)
    return msgspec.structs.replace(
        access, exp=access.iat + REFRESH_TTL, jti=uuid.uuid4().hex, fam=uuid.uuid4().hex, ver=3
    )


_B64URL_ALPHABET: Final = string.ascii_letters + string.digits + "-_"


def flip_signature_bit(token: str, name: FormatName) -> str:
    """The token with one bit of its signature (JWT) or of its tag/signature (PASETO) flipped.

    The character changed is inside the last 64 bytes of the signed body, away from the final character
    (whose low bits may be unused padding bits), so the result is still canonical base64url.
    """
    if name.value.startswith("jwt-"):
        end = len(token)
    else:
        end = token.index(".", len("v4.public.")) if token.count(".") == 3 else len(token)
    i = end - 5
    flipped = _B64URL_ALPHABET[_B64URL_ALPHABET.index(token[i]) ^ 1]
    return token[:i] + flipped + token[i + 1 :]


def _garbage(length: int) -> str:
    return "".join(secrets.choice(_B64URL_ALPHABET + ".") for _ in range(length))


@dataclass(frozen=True, slots=True)
class Subject:
    """One format's key, format object, and tokens to verify."""

    name: FormatName
    key_text: str
    fmt: TokenFormat
    claims: Claims
    access: str
    refresh: str
    bad_signature: str
    garbage: str

    @property
    def jwk(self) -> dict[str, str]:
        """The key as a JWK (JWT formats only)."""
        jwk: dict[str, str] = json.loads(self.key_text)
        return jwk


def build_subject(name: FormatName | str) -> Subject:
    """A fresh key, a tokenbench format on it (wall clock, the benchmark policy) and its tokens."""
    name = FormatName(name)
    with tempfile.TemporaryDirectory(prefix="tokenbench-bench-") as keys_dir:
        key_file = generate_key_file(Path(keys_dir), name)
        key_text = key_file.path.read_text(encoding="utf-8").strip()
        fmt = load(name, keys_dir, policy=POLICY)
    claims = access_claims()
    access = fmt.issue(claims, kind=Kind.ACCESS)
    return Subject(
        name=name,
        key_text=key_text,
        fmt=fmt,
        claims=claims,
        access=access,
        refresh=fmt.issue(refresh_claims(), kind=Kind.REFRESH),
        bad_signature=flip_signature_bit(access, name),
        garbage=_garbage(len(access)),
    )
