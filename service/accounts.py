"""The account rules: create, change role, change password, delete, each with its revocation.

One place, used alike by the admin routes, ``tokenbench users``, ``serve --demo`` and the attack suite:

* every change that affects what a user's sessions may do ends them: :meth:`Accounts.set_role`,
  :meth:`Accounts.set_password` and :meth:`Accounts.delete` write first, then call
  :meth:`service.stores.SessionStore.revoke_user`, which revokes every refresh family *and* bumps the
  user's session generation, so a login already past its user read cannot start a session afterwards.
  Write first, revoke second: if the revocation fails (a store outage), the same call again, with the
  same role, revokes (setting a role the user already has is that retry, and always revokes); a
  repeated delete of a user already gone revokes too. :meth:`Accounts.create` revokes whatever an earlier
  user of the same name left behind.
* admin writes name their ``actor`` (the caller's user name): the user store checks, in the write's own
  transaction, that the caller still exists with the admin role (:class:`service.stores.ActorNotAdmin`,
  403) and that the last admin is neither demoted nor deleted (:class:`service.stores.LastAdmin`, 409).
  The CLI passes no actor (whoever runs it owns the database) but keeps the last-admin rule.
* a login, once the password matched the user as read before the argon2 wait, goes on only with the
  user as stored *now* (:meth:`Accounts.confirm_login`): same hash, same role, still present; the rehash
  to new argon2 parameters is a compare-and-set on the hash that matched, never a blind write.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from formats import Clock
from formats.claims import utc_now
from service.auth.roles import Role
from service.errors import InvalidCredentials, InvalidRequest
from service.passwords import MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, PasswordHasher
from service.stores import Stores, UserExists, UserNotFound, UserRecord

__all__ = ["USERNAME_PATTERN", "Accounts", "canonical_username", "validate_password", "validate_username"]

USERNAME_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}(?![\s\S])"
"""1-64 characters, the first a letter or digit. It ends with "no character follows" rather than ``$``,
which also matches before a final newline (``"alice\n"`` passed): the lookahead means the end of the
string in Python (msgspec, :func:`validate_username`) and in the ECMAScript regex of the OpenAPI schema."""
_USERNAME: Final = re.compile(USERNAME_PATTERN)


def canonical_username(username: str) -> str:
    """The stored form of a user name: lower case. User names are case-insensitive (``Alice`` is ``alice``).

    The rule admits ASCII only, so lower case is the whole normalization: no two spellings of one name
    (Unicode compatibility forms, the Kelvin sign that case-folds to ``k``) can pass it. Stores compare
    names exactly; everything that enters is canonical by the time a store sees it.
    """
    return username.lower()


def validate_username(username: str) -> str:
    """The canonical name (:func:`canonical_username`) if usable, else InvalidRequest (one rule for all).

    Every name that enters (the login body, an admin path, the CLI) is checked with this rule before any
    store sees it, so a NUL byte, a control character or an overlong name is a 400, not a database error.
    """
    if _USERNAME.match(username) is None:
        raise InvalidRequest("user name must be 1-64 of A-Z a-z 0-9 _ . @ - and start with a letter or digit")
    return canonical_username(username)


def validate_password(password: str) -> str:
    """The password itself if its length is allowed, else InvalidRequest."""
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise InvalidRequest(f"a password has {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters")
    return password


@dataclass(frozen=True, slots=True, kw_only=True)
class Accounts:
    """The account rules over the stores; ``clock`` dates new users and revocations."""

    stores: Stores
    hasher: PasswordHasher
    clock: Clock = utc_now

    def _now(self) -> float:
        return self.clock().timestamp()

    async def _revoke(self, username: str) -> int:
        return await self.stores.sessions.revoke_user(username, now=self._now())

    async def create(
        self, username: str, *, role: Role, password: str, actor: str | None = None
    ) -> UserRecord:
        """Add a user (UserExists if taken, in any case); revokes what an earlier user of that name left.

        The name is stored in lower case (:func:`canonical_username`), so ``Alice`` beside ``alice`` is
        :class:`UserExists`.
        """
        username = validate_username(username)
        password_hash = await self.hasher.hash(validate_password(password))
        record = await self.stores.users.create(
            username, role=role.value, password_hash=password_hash, now=self._now(), actor=actor
        )
        await self._revoke(username)
        return record

    async def set_role(
        self, username: str, role: Role, *, actor: str | None = None
    ) -> tuple[UserRecord, int]:
        """Give ``username`` the role ``role`` and revoke its sessions (always: also the retry's way)."""
        username = validate_username(username)
        record = await self.stores.users.set_role(username, role.value, actor=actor)
        return record, await self._revoke(username)

    async def set_password(self, username: str, password: str) -> int:
        """Replace the password and revoke every session; returns how many were live."""
        username = validate_username(username)
        password_hash = await self.hasher.hash(validate_password(password))
        await self.stores.users.set_password_hash(username, password_hash)
        return await self._revoke(username)

    async def delete(self, username: str, *, actor: str | None = None) -> int:
        """Remove the user and revoke its sessions; a retry after a half-done delete still revokes.

        A name the rule refuses is still deleted when such a user exists (one stored before the rule was
        as strict, e.g. with a final newline), so an operator can remove it.
        """
        try:
            username = validate_username(username)
        except InvalidRequest:
            if await self.stores.users.get(username) is None:
                raise
        try:
            await self.stores.users.delete(username, actor=actor)
        except UserNotFound:
            await self._revoke(username)
            raise
        return await self._revoke(username)

    async def ensure(self, username: str, *, role: Role, password: str) -> bool:
        """Create ``username``, or reset its role and password (revoking its sessions); True if created."""
        username = validate_username(username)
        try:
            await self.create(username, role=role, password=password)
        except UserExists:
            password_hash = await self.hasher.hash(validate_password(password))
            await self.stores.users.set_role(username, role.value)
            await self.stores.users.set_password_hash(username, password_hash)
            await self._revoke(username)
            return False
        return True

    async def confirm_login(self, read: UserRecord, password: str) -> UserRecord:
        """After ``password`` matched ``read`` (the user read before the argon2 wait): the user now.

        InvalidCredentials, the same answer as a wrong password, if the user is gone, its role changed, or
        its hash changed to one ``password`` does not match (a reset) during the wait. A hash that changed
        to one it does match (another login's rehash of the same password) is fine. The rehash to new
        argon2 parameters is a compare-and-set on the hash just checked.
        """
        checked = read.password_hash
        current = await self.stores.users.get(read.username)
        for _ in range(2):
            if current is None or current.role != read.role:
                break
            if current.password_hash != checked:
                if not await self.hasher.verify(current.password_hash, password):
                    break
                checked = current.password_hash
            if not self.hasher.needs_rehash(checked):
                return current
            rehashed = await self.hasher.hash(password)
            if await self.stores.users.replace_password_hash(current.username, old=checked, new=rehashed):
                return current
            current = await self.stores.users.get(read.username)  # changed under the rehash: look again
        raise InvalidCredentials("wrong user name or password")
