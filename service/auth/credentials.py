"""The two credential readers, side by side with their one size cap: bearer header and refresh cookie.

Both read the raw ASGI headers and refuse a header over :data:`MAX_CREDENTIAL_BYTES` before parsing it;
the cap is the formats' own token cap (:data:`formats.MAX_TOKEN_CHARS`), so nothing the formats would
refuse is ever parsed here.

The refresh cookie (``docs/service.md``, "The refresh cookie"):

* ``TOKENBENCH_COOKIE_SECURE=true`` (the default, and required in production): ``__Host-refresh_token``,
  ``Secure; Path=/``, no ``Domain``. The ``__Host-`` prefix makes browsers refuse any such cookie that is
  not host-only, secure and for ``/``, so neither a sibling subdomain nor a plain-http response can plant
  or overwrite one (cookie tossing). The price is ``Path=/``: the cookie goes with every request to the
  origin, not only to ``/auth``.
* ``TOKENBENCH_COOKIE_SECURE=false`` (local http only): browsers never store a ``__Host-`` cookie without
  ``Secure``, so the cookie is ``refresh_token`` with ``Path=/auth``, and tossing is possible in principle.

A request may still carry two cookies of that name (a planted one, or a client that sends what it likes):
:func:`refresh_tokens` returns every value and the route decides. Refresh refuses them (it would have to
pick whose session to continue); logout ends every one that verifies and clears them all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from formats import MAX_TOKEN_CHARS
from service.errors import InvalidToken, MissingCredentials

__all__ = [
    "HOST_REFRESH_COOKIE",
    "MAX_CREDENTIAL_BYTES",
    "PLAIN_REFRESH_COOKIE",
    "RefreshCookie",
    "bearer_token",
    "refresh_token",
    "refresh_tokens",
]

MAX_CREDENTIAL_BYTES: Final = MAX_TOKEN_CHARS
"""An ``Authorization`` header or one refresh cookie longer than this is refused unparsed."""
MAX_COOKIE_HEADER_BYTES: Final = 64 * 1024
"""All ``Cookie`` headers of a request together: bounds the parsing work, whatever other cookies hold."""

_AUTHORIZATION: Final = b"authorization"
_COOKIE: Final = b"cookie"


@dataclass(frozen=True, slots=True)
class RefreshCookie:
    """Where the refresh token travels: the cookie's name and path, and whether it is ``Secure``."""

    name: str
    path: str
    secure: bool

    @classmethod
    def of(cls, *, secure: bool) -> RefreshCookie:
        """The cookie for ``TOKENBENCH_COOKIE_SECURE``: ``__Host-`` when secure, the plain one otherwise."""
        return HOST_REFRESH_COOKIE if secure else PLAIN_REFRESH_COOKIE


HOST_REFRESH_COOKIE: Final = RefreshCookie(name="__Host-refresh_token", path="/", secure=True)
PLAIN_REFRESH_COOKIE: Final = RefreshCookie(name="refresh_token", path="/auth", secure=False)


def bearer_token(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """The token of the one ``Authorization: Bearer`` header; raise MissingCredentials or InvalidToken."""
    values = [value for name, value in headers if name == _AUTHORIZATION]
    if not values:
        raise MissingCredentials("no Authorization header; send Authorization: Bearer <access token>")
    if len(values) > 1:
        raise InvalidToken("more than one Authorization header", code="token_malformed")
    value = values[0]
    if len(value) > MAX_CREDENTIAL_BYTES:
        raise InvalidToken("Authorization header over 8 KiB", code="token_malformed")
    scheme, _, token = value.partition(b" ")
    if scheme.lower() != b"bearer":
        raise MissingCredentials("the Authorization scheme is not Bearer")
    token = token.lstrip(b" ")
    if not token:
        raise InvalidToken("empty bearer token", code="token_malformed")
    return token.decode("latin-1")


def refresh_tokens(headers: Iterable[tuple[bytes, bytes]], cookie: RefreshCookie) -> list[str]:
    """Every non-empty value of ``cookie`` in the ``Cookie`` headers, in the order sent.

    Raises InvalidToken for a refresh cookie over 8 KiB (other cookies do not count: large cookies planted
    by a sibling subdomain must not block logout) or ``Cookie`` headers over 64 KiB in all, and
    MissingCredentials if there is none.
    """
    raw = [value for name, value in headers if name == _COOKIE]
    if sum(len(value) for value in raw) > MAX_COOKIE_HEADER_BYTES:
        raise InvalidToken("Cookie header over 64 KiB", code="token_malformed")
    wanted = cookie.name.encode()
    tokens = []
    for header in raw:
        for pair in header.split(b";"):
            name, _, value = pair.partition(b"=")
            if name.strip() == wanted:
                token = value.strip().removeprefix(b'"').removesuffix(b'"')
                if len(token) > MAX_CREDENTIAL_BYTES:
                    raise InvalidToken(f"{cookie.name} cookie over 8 KiB", code="token_malformed")
                if token:
                    tokens.append(token.decode("latin-1"))
    if not tokens:
        raise MissingCredentials(f"no {cookie.name} cookie; log in first")
    return tokens


def refresh_token(headers: Iterable[tuple[bytes, bytes]], cookie: RefreshCookie) -> str:
    """The one refresh cookie's value; InvalidToken if the request carries two or more."""
    tokens = refresh_tokens(headers, cookie)
    if len(tokens) > 1:
        raise InvalidToken(
            f"more than one {cookie.name} cookie (one may be planted); POST /auth/logout clears them",
            code="token_malformed",
        )
    return tokens[0]
