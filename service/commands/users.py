"""``tokenbench users create|list|set-role|set-password|delete``: manage users in the configured database.

Passwords come from a prompt (asked twice) or, for scripts, from standard input with
``--password-stdin`` (the first line). Every change goes through :mod:`service.accounts`, exactly like the
admin API: changing a role or a password, or deleting a user, revokes the user's refresh sessions (also
when repeated, so re-running a command whose revocation failed completes it), and the last admin can be
neither demoted nor deleted. ``list`` shows, per user, whether the stored hash uses the configured argon2
parameters (``current``) or older ones (``outdated``, upgraded at the user's next login).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from service.accounts import Accounts, canonical_username, validate_password, validate_username
from service.auth.roles import Role
from service.errors import InvalidRequest
from service.passwords import PasswordHasher
from service.settings import Settings
from service.stores import LastAdmin, StoreError, StoreRejected, UserExists, UserNotFound, open_stores

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``tokenbench users``."""
    parser = subparsers.add_parser("users", help="create, list, re-role and delete users")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    create = actions.add_parser("create", help="add a user (password from a prompt or --password-stdin)")
    _username(create)
    create.add_argument("--role", choices=[r.value for r in Role], default=Role.USER.value)
    _password_stdin(create)
    create.set_defaults(run=lambda args: _run(args, _create))

    listing = actions.add_parser(
        "list", help="show every user: name, role, created, argon2 parameters of the hash (current/outdated)"
    )
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


Action = Callable[[argparse.Namespace, Accounts], Awaitable[int]]


def _run(args: argparse.Namespace, action: Action) -> int:
    settings = Settings.from_env(os.environ)

    async def main() -> int:
        stores = open_stores(settings)
        try:
            await stores.startup()
            return await action(args, Accounts(stores=stores, hasher=PasswordHasher(settings.argon2)))
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
    except LastAdmin as exc:
        print(f"tokenbench: error: {exc} is the last admin; make another user admin first", file=sys.stderr)
    except StoreRejected as exc:  # a value of the command (a NUL byte in a name), not the database's fault
        print(f"tokenbench: error: {exc}; check the values given", file=sys.stderr)
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
    return validate_password(password)


async def _create(args: argparse.Namespace, accounts: Accounts) -> int:
    validate_username(args.username)  # before asking for a password
    password = _read_password(args)
    record = await accounts.create(args.username, role=Role(args.role), password=password)
    print(f"created {record.username} (role {record.role})")
    return 0


async def _list(_args: argparse.Namespace, accounts: Accounts) -> int:
    for user in await accounts.stores.users.list():
        created = datetime.fromtimestamp(user.created_at, UTC).isoformat(timespec="seconds")
        params = "outdated" if accounts.hasher.needs_rehash(user.password_hash) else "current"
        print(f"{user.username}\t{user.role}\t{created}\t{params}")
    return 0


async def _set_role(args: argparse.Namespace, accounts: Accounts) -> int:
    record, revoked = await accounts.set_role(args.username, Role(args.role))
    print(f"{record.username} now has role {record.role}; {revoked} session(s) revoked")
    return 0


async def _set_password(args: argparse.Namespace, accounts: Accounts) -> int:
    password = _read_password(args)
    revoked = await accounts.set_password(args.username, password)
    print(f"password of {canonical_username(args.username)} changed; {revoked} session(s) revoked")
    return 0


async def _delete(args: argparse.Namespace, accounts: Accounts) -> int:
    revoked = await accounts.delete(args.username)
    print(f"deleted {canonical_username(args.username)}; {revoked} session(s) revoked")
    return 0
