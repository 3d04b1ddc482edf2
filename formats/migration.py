"""Switching formats without logging anyone out: one issued format, and the formats still accepted.

During a switch (``TOKENBENCH_ACCEPT_FORMATS``) a deployment issues every new token in one format and
still verifies the tokens it issued before, in the format it used then. :class:`Migration` holds the issued
format and the accepted ones (each with its own key ring and every rule of its own) and picks, for each
token, **the one format the token names itself**:

* a PASETO token by its header, version and purpose: ``v4.local.``, ``v4.public.``;
* a JWS by the ``alg`` of its protected header: ``alg:HS256``, ``alg:ES256``, ...

Each format declares that label (:attr:`formats.TokenFormat.token_label`, derived from the format's own
header or pinned algorithm), the labels of a window must differ, and :func:`token_label` reads it from a
token without trusting anything else in it. The token then goes to that format and to no other: never
"whichever verifies" (what ``pyseto.decode`` with several keys does, catalog
PASETO-MULTI-PURPOSE-KEYRING). A token whose label names no format of the window is ``token_malformed``,
as a token of another format always was (catalog CROSS-FORMAT-TOKEN). A token relabelled with another
format's prefix reaches that format's parser and fails its signature or MAC, because the label is inside
what is signed: the JWS header is in the signing input, the PASETO header in the PAE.

Nothing here depends on which formats exist: the labels come from the registry's classes, so a new format
takes part in a migration the moment it is registered.

The issued format's verify cost does not grow (``benchmarks/bench_tokens.py`` measures it): a token of
the issued format is recognised by one prefix comparison, against its PASETO header or against the JWS
header segments of its tokens that verified before. Header segments are remembered only from tokens that
verified (a stream of forged headers cannot grow the tables) and in bounded tables.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol

from formats._codec import b64url_decode, decode_json_object
from formats._jwt_common import jws_label
from formats._ring import MAX_TOKEN_CHARS
from formats.base import Clock, FormatName, Kind, TokenFormat
from formats.claims import Claims, utc_now
from formats.errors import KeyConfigError, TokenMalformed
from formats.registry import FORMATS

__all__ = [
    "MAX_ISSUED_HEADERS",
    "MAX_LEARNED_HEADERS",
    "Migration",
    "Seen",
    "Verifier",
    "public_key_text",
    "token_label",
]

MAX_LEARNED_HEADERS: Final = 256
"""JWS header segments of accepted formats remembered per window (one per key id and kind in use); the
table starts over when full."""
MAX_ISSUED_HEADERS: Final = 8
"""JWS header segments of the issued format compared first (a few key ids, two kinds each)."""

_PASETO_VERSION: Final = re.compile(r"v[0-9]{1,3}\Z")


class Verifier(Protocol):
    """What verifies a token: a :class:`formats.TokenFormat`, or a :class:`Migration` of several."""

    def verify(self, token: str, *, kind: Kind) -> Claims:
        """The checked claims of ``token``, or a TokenError."""
        ...


def token_label(token: str) -> str | None:
    """The format label a token carries (``v4.public.``, ``alg:ES256``), or None if it carries none.

    A first segment ``v<digits>`` makes it a PASETO token, labelled by version and purpose; anything else
    is read as a JWS, labelled by the ``alg`` member of its protected header. Nothing is verified here.
    """
    if len(token) > MAX_TOKEN_CHARS or not token.isascii():
        return None
    first = token.find(".")
    if first <= 0:
        return None
    head = token[:first]
    if _PASETO_VERSION.match(head):
        second = token.find(".", first + 1)
        return token[: second + 1] if second > first + 1 else None
    try:
        alg = decode_json_object(b64url_decode(head)).get("alg")
    except TokenMalformed:
        return None
    return jws_label(alg) if isinstance(alg, str) else None


def public_key_text(name: FormatName, key_text: str, *, source: str) -> str | None:
    """The key-file text of the public half of a private ``key_text``, as the format publishes it.

    None for a symmetric format (its one key both signs and verifies). The result is the entry of the
    format's well-known document: a JWK for a JWS format, the ``k4.public`` PASERK for v4.public; it has
    the same key id and no secret, so a ring of such texts verifies and can never sign.
    """
    cls = FORMATS[name]
    documents = cls.from_key_texts([(source, key_text)]).well_known()
    if not documents:
        return None
    (document,) = documents.values()
    (entry,) = document["keys"]
    text = entry["paserk"] if isinstance(entry.get("paserk"), str) else json.dumps(entry)
    if cls.key_id_of(text, source=source) != cls.key_id_of(key_text, source=source):
        raise KeyConfigError(f"{source}: the public key has another key id than the private one")
    if cls.key_material_of(text, source=source) is not None:
        raise KeyConfigError(f"{source}: the published form of this key still holds its secret")
    return text


@dataclass(frozen=True, slots=True)
class Seen:
    """Tokens of one accepted format verified by this process: how many of each kind, and the latest."""

    access: int = 0
    refresh: int = 0
    last: datetime | None = None


class Migration:
    """The issued format and the formats still accepted: ``issue`` in the first, ``verify`` in any.

    ``verify`` raises only :class:`formats.TokenError`, as every format's does. Tokens of an accepted
    format that verify are counted (:meth:`seen`), so an operator sees when the old format has drained.
    """

    __slots__ = (
        "_accepted",
        "_by_label",
        "_clock",
        "_issued",
        "_issued_base",
        "_issued_prefixes",
        "_issued_verify",
        "_jws",
        "_learned",
        "_prefixed",
        "_seen",
    )

    def __init__(
        self, issued: TokenFormat, accepted: Sequence[TokenFormat] = (), *, clock: Clock | None = None
    ) -> None:
        by_label: dict[str, TokenFormat] = {}
        for fmt in (issued, *accepted):
            other = by_label.get(fmt.token_label)
            if other is not None:
                raise KeyConfigError(
                    f"{fmt.name} and {other.name} both label their tokens {fmt.token_label!r}: "
                    "a format is accepted once, and never the issued one again"
                )
            by_label[fmt.token_label] = fmt
        self._issued = issued
        self._issued_verify = issued.verify
        self._accepted = tuple(accepted)
        self._by_label = by_label
        self._prefixed = tuple(
            (label, fmt) for label, fmt in by_label.items() if _PASETO_VERSION.match(label.split(".", 1)[0])
        )
        self._jws = frozenset(fmt for fmt in by_label.values() if fmt.token_label not in dict(self._prefixed))
        self._issued_base: tuple[str, ...] = () if issued in self._jws else (issued.token_label,)
        self._issued_prefixes = self._issued_base
        self._learned: dict[str, TokenFormat] = {}
        self._clock: Clock = clock or utc_now
        self._seen: dict[FormatName, Seen] = {fmt.name: Seen() for fmt in accepted}

    @property
    def issued(self) -> TokenFormat:
        """The format every new token is issued in."""
        return self._issued

    @property
    def accepted(self) -> tuple[TokenFormat, ...]:
        """The formats whose tokens still verify, in the configured order."""
        return self._accepted

    @property
    def name(self) -> FormatName:
        """The issued format's name."""
        return self._issued.name

    @property
    def verifier(self) -> Verifier:
        """What to verify with: the issued format itself when nothing else is accepted (no dispatch)."""
        return self if self._accepted else self._issued

    def issue(self, claims: Claims, *, kind: Kind) -> str:
        """Issue ``claims`` in the issued format."""
        return self._issued.issue(claims, kind=kind)

    def format_of(self, token: str) -> TokenFormat:
        """The one format ``token`` names (see :func:`token_label`); TokenMalformed if it names none here."""
        if token.startswith(self._issued_prefixes):
            return self._issued
        dot = token.find(".")
        fmt = self._learned.get(token[: dot + 1]) if dot > 0 else None
        if fmt is not None:
            return fmt
        for prefix, prefixed in self._prefixed:
            if token.startswith(prefix):
                return prefixed
        label = token_label(token)
        fmt = None if label is None else self._by_label.get(label)
        if fmt is None:
            raise TokenMalformed("not a token of a format this service issues or accepts")
        return fmt

    def verify(self, token: str, *, kind: Kind) -> Claims:
        """Verify ``token`` with the one format it names, with every rule of that format."""
        if token.startswith(self._issued_prefixes):  # the hot path: one prefix comparison, then verify
            return self._issued_verify(token, kind=kind)
        fmt = self.format_of(token)
        claims = fmt.verify(token, kind=kind)
        if fmt in self._jws:  # remember the verified header segment: the next token skips the parse
            self._learn(token[: token.index(".") + 1], fmt)
        if fmt is not self._issued:
            self._count(fmt.name, kind)
        return claims

    def _learn(self, head: str, fmt: TokenFormat) -> None:
        """Remember ``head`` (a JWS header segment and its dot, of a token that verified) for ``fmt``."""
        if fmt is self._issued:
            if len(self._issued_prefixes) >= MAX_ISSUED_HEADERS:
                self._issued_prefixes = self._issued_base
            self._issued_prefixes = (*self._issued_prefixes, head)
            return
        if len(self._learned) >= MAX_LEARNED_HEADERS:
            self._learned.clear()
        self._learned[head] = fmt

    def _count(self, name: FormatName, kind: Kind) -> None:
        seen = self._seen[name]
        self._seen[name] = Seen(
            access=seen.access + (kind is Kind.ACCESS),
            refresh=seen.refresh + (kind is Kind.REFRESH),
            last=self._clock(),
        )

    def seen(self) -> Mapping[FormatName, Seen]:
        """Verified tokens per accepted format since this window was built."""
        return dict(self._seen)

    def well_known(self) -> Mapping[str, Any]:
        """The public key documents of every format of the window; documents of one name are merged.

        Two formats that publish the same document (``jwt-es256`` and another JWS format both publish
        ``jwks.json``) share it: its ``keys`` are the issued format's, then each accepted format's.
        """
        documents: dict[str, Any] = {}
        for fmt in (self._issued, *self._accepted):
            for name, document in fmt.well_known().items():
                if name not in documents:
                    documents[name] = document
                else:
                    documents[name] = {"keys": [*documents[name]["keys"], *document["keys"]]}
        return documents
