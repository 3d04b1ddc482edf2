"""Token issuance and refresh sessions (RFC 9700 §4.14): the state machine behind the auth routes.

* :meth:`SessionManager.start` (login) issues an access token and the first refresh token of a new
  family, and records the family.
* :meth:`SessionManager.refresh` verifies the refresh token with the format (kind ``refresh``) before the
  store is asked, then rotates the family with one compare-and-set keyed by ``jti`` (never by the token
  string). During a migration the presented token may be of an accepted format; its successor is always
  issued in the issued format, in the same family, so reuse detection and the grace window span the
  switch. The winner's successor is stored *sealed*: encrypted under a key derived from the presented
  token, so a retry within the grace window, which presents that same token, gets the identical
  successor, while a copy of the database alone reveals no usable refresh token.
* Reuse after the grace window revokes the family (the store does it, atomically with the detection).
* The user's current state wins: the access token carries the role the user holds as of the rotation,
  and a family whose user is gone is revoked. With SQL sessions the store reads the user in the
  rotation's own transaction (one ``UPDATE ... RETURNING`` for the winner); Redis holds no users, so the
  user is read from SQL *after* the rotation, so that a change committed before the rotation is seen.
* A family lives at most ``TOKENBENCH_SESSION_MAX_AGE`` from its login, however often it is refreshed:
  the store caps the family's expiry at ``started + max_age`` in the same compare-and-set, refuses and
  revokes a family past it, and the refresh cookie's ``Max-Age`` is what is left of it (never more).

Access tokens are stateless; nothing here runs on the request path of ``GET /me``.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from formats import Claims, Clock, Kind, TokenClaimsInvalid, TokenFormat
from formats.migration import Verifier
from service.auth.roles import Role, permissions_of
from service.settings import Settings
from service.stores import SessionRevoked, Stores

__all__ = ["SessionManager", "TokenPair", "seal", "unseal"]

_SEAL_PERSON: Final = b"tokenbench-seal"
_NONCE_BYTES: Final = 12
PURGE_INTERVAL: Final = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class TokenPair:
    """What login and refresh hand out."""

    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int
    rotated: bool | None = None
    """Refresh only: True if this request rotated the family, False for a retry within the grace window."""


def _seal_key(presented: str) -> bytes:
    return hashlib.blake2b(presented.encode("ascii"), digest_size=32, person=_SEAL_PERSON).digest()


def seal(successor: str, *, presented: str, context: str) -> bytes:
    """Encrypt ``successor`` so that only a holder of ``presented`` can read it back."""
    nonce = secrets.token_bytes(_NONCE_BYTES)
    box = ChaCha20Poly1305(_seal_key(presented))
    return nonce + box.encrypt(nonce, successor.encode("ascii"), context.encode())


def unseal(sealed: bytes, *, presented: str, context: str) -> str:
    """The successor sealed under ``presented``; SessionRevoked if it does not open."""
    box = ChaCha20Poly1305(_seal_key(presented))
    try:
        return box.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], context.encode()).decode("ascii")
    except (InvalidTag, ValueError, UnicodeDecodeError) as exc:
        raise SessionRevoked("stored successor does not open with this token") from exc


class SessionManager:
    """Issues tokens and drives refresh families through the stores."""

    def __init__(
        self,
        *,
        fmt: TokenFormat,
        stores: Stores,
        settings: Settings,
        clock: Clock,
        verifier: Verifier | None = None,
    ) -> None:
        self._fmt = fmt
        self._verifier: Verifier = verifier or fmt  # a migration window also verifies the accepted formats
        self._stores = stores
        self._clock = clock
        self._access_ttl = timedelta(seconds=settings.access_ttl)
        self._refresh_ttl = timedelta(seconds=settings.refresh_ttl)
        self._max_age = settings.session_max_age
        self._grace = settings.refresh_grace
        self._issuer = settings.issuer
        self._audience = settings.audience
        self._next_purge: datetime | None = None

    @property
    def access_ttl(self) -> int:
        """Seconds an access token lives (``expires_in``)."""
        return int(self._access_ttl.total_seconds())

    @property
    def refresh_ttl(self) -> int:
        """Seconds a refresh token lives (the cookie's ``Max-Age``)."""
        return int(self._refresh_ttl.total_seconds())

    def issue_access(self, username: str, role: Role, *, now: datetime) -> str:
        """A fresh access token for ``username`` with ``role`` and its permissions."""
        claims = Claims(
            sub=username,
            role=role.value,
            perms=permissions_of(role),
            iat=now,
            nbf=now,
            exp=now + self._access_ttl,
            jti=secrets.token_urlsafe(16),
            iss=self._issuer,
            aud=self._audience,
        )
        return self._fmt.issue(claims, kind=Kind.ACCESS)

    def _issue_refresh(
        self, username: str, role: Role | str, *, family: str, ver: int, now: datetime, ttl: timedelta
    ) -> Claims:
        return Claims(
            sub=username,
            role=str(role),
            iat=now,
            nbf=now,
            exp=now + ttl,
            jti=secrets.token_urlsafe(16),
            iss=self._issuer,
            aud=self._audience,
            fam=family,
            ver=ver,
        )

    async def start(self, username: str, role: Role, *, generation: int) -> TokenPair:
        """Login: a new family and its first refresh token, plus an access token.

        ``generation`` is the user's session generation read before the login read the user; the store
        refuses the family (:class:`service.stores.SessionGenerationChanged`) if the user's sessions were
        revoked since.
        """
        now = self._clock()
        await self._maybe_purge(now)
        family = secrets.token_urlsafe(16)
        ttl = min(self._refresh_ttl, timedelta(seconds=self._max_age))
        refresh = self._issue_refresh(username, role, family=family, ver=0, now=now, ttl=ttl)
        refresh_token = self._fmt.issue(refresh, kind=Kind.REFRESH)
        await self._stores.sessions.start(
            family,
            username=username,
            jti=refresh.jti,
            expires_at=refresh.exp.timestamp(),
            now=now.timestamp(),
            generation=generation,
        )
        return TokenPair(
            access_token=self.issue_access(username, role, now=now),
            refresh_token=refresh_token,
            expires_in=self.access_ttl,
            refresh_expires_in=int(ttl.total_seconds()),
        )

    async def refresh(self, presented: str) -> TokenPair:
        """Rotate the family of ``presented``; raises TokenError, SessionRevoked or SessionReused."""
        claims = self._verifier.verify(presented, kind=Kind.REFRESH)
        family, ver = claims.fam, claims.ver
        if family is None or ver is None:  # check_claims guarantees both on refresh tokens
            raise TokenClaimsInvalid("refresh token without fam/ver")
        now = self._clock()
        sessions = self._stores.sessions
        # The successor's own role claim is the presented one's: nothing reads it (every refresh reads the
        # role again), and the role is known only once the rotation has read it.
        successor = self._issue_refresh(
            claims.sub, claims.role, family=family, ver=ver + 1, now=now, ttl=self._refresh_ttl
        )
        successor_token = self._fmt.issue(successor, kind=Kind.REFRESH)
        context = f"{family}:{claims.jti}"
        rotation = await sessions.rotate(
            family,
            presented_jti=claims.jti,
            successor_jti=successor.jti,
            sealed_successor=seal(successor_token, presented=presented, context=context),
            expires_at=successor.exp.timestamp(),
            now=now.timestamp(),
            grace=self._grace,
            max_age=self._max_age,
            read_role=sessions.checks_users,
        )
        current = rotation.role
        if not sessions.checks_users:  # the users live elsewhere: read the user after the rotation
            user = await self._stores.users.get(claims.sub)
            current = None if user is None else user.role
        if current is None:  # the user is gone (SQL revoked the family already; a second revoke is a no-op)
            await sessions.revoke_family(family, now=now.timestamp())
            raise SessionRevoked(family)
        role = Role(current)
        if not rotation.winner:
            successor_token = unseal(rotation.sealed_successor, presented=presented, context=context)
        return TokenPair(
            access_token=self.issue_access(claims.sub, role, now=now),
            refresh_token=successor_token,
            expires_in=self.access_ttl,
            refresh_expires_in=max(0, math.floor(rotation.expires_at - now.timestamp() + 1e-6)),
            rotated=rotation.winner,
        )

    async def logout(self, presented: str) -> None:
        """Revoke the family of ``presented`` (any verified token of it); SessionRevoked if already gone."""
        claims = self._verifier.verify(presented, kind=Kind.REFRESH)
        if claims.fam is None:
            raise TokenClaimsInvalid("refresh token without fam")
        if not await self._stores.sessions.revoke_family(claims.fam, now=self._clock().timestamp()):
            raise SessionRevoked(claims.fam)

    async def logout_all(self, username: str) -> int:
        """Revoke every family of ``username``; returns how many were live."""
        return await self._stores.sessions.revoke_user(username, now=self._clock().timestamp())

    async def _maybe_purge(self, now: datetime) -> None:
        if self._next_purge is None or now >= self._next_purge:
            self._next_purge = now + PURGE_INTERVAL
            await self._stores.sessions.purge(now=now.timestamp())
