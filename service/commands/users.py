"""``tokenbench users create|list|set-role|set-password|delete``: manage users in the configured database.

Passwords come from a prompt (asked twice) or, for scripts, from standard input with
``--password-stdin`` (the first line). Changing a role or a password, or deleting a user, revokes the
user's refresh sessions, exactly like the admin API.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from service.auth.roles import Role
from service.errors import InvalidRequest
from service.passwords import MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, PasswordHasher
from service.routes.admin import validate_username
from service.settings import Settings
from service.stores import StoreError, Stores, UserExists, UserNotFound, open_stores

__all__ = ["register", "set_user"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``tokenbench users``."""
    parser = subparsers.add_parser("users", help="create, list, re-role and delete users")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    create = actions.add_parser("create", help="add a user (password from a prompt or --password-stdin)")
    _username(create)
    create.add_argument("--role", choices=[r.value for r in Role], default=Role.USER.value)
    _password_stdin(create)
    create.set_defaults(run=lambda args: _run(args, _create))

    listing = actions.add_parser("list", help="show every user and role")
    listing.set_defaults(run=lambda args: _run(args, _list))

    set_role = actions.add_parser("set-role", help="change a role (revokes the user's sessions)")
    _username(set_role)
    set_role.add_argument("--role", choices=[r.value for r in Role], required=True)
    set_role.set_defaults(run=lambda args: _run(args, _set_role))

    set_password = actions.add_parser("set-password", help="change a password (revokes the user's sessions)")
    _username(set_password)
    _password_stdin(set_password)
    set_password.set_defaults(run=lambda args: _run(args, _set_password))

    delete = actions.add_parser("delete", help="remove a user (revokes the user's sessions)")
    _username(delete)
    delete.set_defaults(run=lambda args: _run(args, _delete))


def _username(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--username", required=True)


def _password_stdin(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password-stdin", action="store_true", help="read the password from the first line of stdin"
    )


Action = Callable[[argparse.Namespace, Stores, PasswordHasher], Awaitable[int]]


def _run(args: argparse.Namespace, action: Action) -> int:
    settings = Settings.from_env(os.environ)

    async def main() -> int:
        stores = open_stores(settings)
        try:
            await stores.startup()
            return await action(args, stores, PasswordHasher(settings.argon2))
        finally:
            await stores.shutdown()

    try:
        return asyncio.run(main())
    except InvalidRequest as exc:
        print(f"tokenbench: error: {exc.detail}", file=sys.stderr)
    except UserExists as exc:
        print(f"tokenbench: error: user {exc} already exists", file=sys.stderr)
    except UserNotFound as exc:
        print(f"tokenbench: error: no user {exc}", file=sys.stderr)
    except StoreError as exc:
        print(f"tokenbench: error: TOKENBENCH_DATABASE_URL: {exc}", file=sys.stderr)
    return 1


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise InvalidRequest("the two passwords differ")
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise InvalidRequest(f"a password has {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters")
    return password


async def set_user(
    stores: Stores, hasher: PasswordHasher, username: str, *, role: Role, password: str
) -> bool:
    """Create ``username`` or reset its role and password (revoking its sessions); True if created."""
    password_hash = await hasher.hash(password)
    try:
        await stores.users.create(username, role=role.value, password_hash=password_hash, now=time.time())
    except UserExists:
        await stores.users.set_role(username, role.value)
        await stores.users.set_password_hash(username, password_hash)
        await stores.sessions.revoke_user(username, now=time.time())
        return False
    return True


async def _create(args: argparse.Namespace, stores: Stores, hasher: PasswordHasher) -> int:
    username = validate_username(args.username)
    password = _read_password(args)
    await stores.users.create(
        username, role=args.role, password_hash=await hasher.hash(password), now=time.time()
    )
    print(f"created {username} (role {args.role})")
    return 0


async def _list(_args: argparse.Namespace, stores: Stores, _hasher: PasswordHasher) -> int:
    for user in await stores.users.list():
        created = datetime.fromtimestamp(user.created_at, UTC).isoformat(timespec="seconds")
        print(f"{user.username}\t{user.role}\t{created}")
    return 0


async def _set_role(args: argparse.Namespace, stores: Stores, _hasher: PasswordHasher) -> int:
    await stores.users.set_role(args.username, args.role)
    revoked = await stores.sessions.revoke_user(args.username, now=time.time())
    print(f"{args.username} now has role {args.role}; {revoked} session(s) revoked")
    return 0


async def _set_password(args: argparse.Namespace, stores: Stores, hasher: PasswordHasher) -> int:
    password = _read_password(args)
    await stores.users.set_password_hash(args.username, await hasher.hash(password))
    revoked = await stores.sessions.revoke_user(args.username, now=time.time())
    print(f"password of {args.username} changed; {revoked} session(s) revoked")
    return 0


async def _delete(args: argparse.Namespace, stores: Stores, _hasher: PasswordHasher) -> int:
    await stores.users.delete(args.username)
    revoked = await stores.sessions.revoke_user(args.username, now=time.time())
    print(f"deleted {args.username}; {revoked} session(s) revoked")
    return 0
