"""Token sizes from one source: what the service's own login issues, in every format.

:func:`token_sizes` starts a refresh family through :class:`service.auth.sessions.SessionManager` (the code
``POST /auth/login`` runs once the password has matched) on a throw-away SQLite store, so the claims are
exactly the service's: the user name as ``sub``, the role and its permissions, the three times, a
``token_urlsafe`` ``jti``, ``iss``/``aud`` when configured; the refresh token drops ``perms`` and adds
``fam`` and ``ver``. Every format writes whole seconds, so the sizes do not depend on the clock.

Every page that states a token size gets it from here or is checked against it
(``tests/benchmarks/test_sizes.py``), and ``tokenbench bench`` checks that the tokens its running servers
issued have these sizes (:func:`check_issued`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from benchmarks.results import SizeRow
from formats import FormatName, ephemeral
from service.auth.credentials import RefreshCookie
from service.auth.roles import Role
from service.auth.sessions import SessionManager
from service.settings import Secret, Settings
from service.stores import open_stores

__all__ = ["SIZES_USER", "check_issued", "issue_pair", "size_row", "token_sizes"]

SIZES_USER: Final = "alice"
"""The demo user of the docs. Any five-character name gives the same sizes (the benchmark's is ``bench``)."""
_NOW: Final = datetime(2026, 12, 2, 7, 30, tzinfo=UTC)


def size_row(fmt: str, access: str, refresh: str, *, cookie: str) -> SizeRow:
    """Sizes of an access and a refresh token and of the headers carrying them (``cookie``: its name)."""
    return SizeRow(
        format=fmt,
        access_bytes=len(access),
        refresh_bytes=len(refresh),
        authorization_header_bytes=len(f"Authorization: Bearer {access}\r\n"),
        cookie_header_bytes=len(f"Cookie: {cookie}={refresh}\r\n"),
    )


async def _login_pair(settings: Settings, username: str) -> tuple[str, str]:
    stores = open_stores(settings)
    await stores.startup()
    try:
        sessions = SessionManager(
            fmt=ephemeral(settings.format, clock=lambda: _NOW),
            stores=stores,
            settings=settings,
            clock=lambda: _NOW,
        )
        pair = await sessions.start(username, Role.USER, generation=0)
    finally:
        await stores.shutdown()
    return pair.access_token, pair.refresh_token


def issue_pair(settings: Settings, username: str = SIZES_USER) -> tuple[str, str]:
    """The access and refresh token the service's login issues to ``username`` in ``settings.format``.

    ``settings.database_url`` is ignored: the family is recorded in a throw-away SQLite file.
    """
    with tempfile.TemporaryDirectory(prefix="tokenbench-sizes-") as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'sizes.db'}"
        return asyncio.run(
            _login_pair(dataclasses.replace(settings, database_url=Secret(url, shown=url)), username)
        )


def token_sizes(settings: Settings | None = None, *, username: str = SIZES_USER) -> tuple[SizeRow, ...]:
    """Per format, the sizes of the pair the service issues at login to ``username`` (role ``user``).

    ``settings`` (default: the service's defaults, as ``make run`` starts it, no ``iss``/``aud``) decide
    the lifetimes, the issuer and audience, and the refresh cookie's name; its format is ignored.
    """
    settings = settings or Settings()
    cookie = RefreshCookie.of(secure=settings.cookie_secure).name
    rows = []
    for name in FormatName:
        access, refresh = issue_pair(dataclasses.replace(settings, format=name), username)
        rows.append(size_row(name.value, access, refresh, cookie=cookie))
    return tuple(rows)


def check_issued(issued: SizeRow, expected: SizeRow) -> None:
    """Raise if tokens a running server issued are not the size :func:`token_sizes` says."""
    if issued != expected:
        raise RuntimeError(
            f"{issued.format}: the running service issued {issued.access_bytes}/{issued.refresh_bytes}-byte "
            f"access/refresh tokens, benchmarks.sizes says {expected.access_bytes}/{expected.refresh_bytes}"
        )
