"""``tokenbench serve``: validate everything, prepare the database and keys, then run granian.

``tokenbench serve --verify-only --issuer-url URL`` runs :mod:`service.verifier.app` instead: no keys, no
database, refused (exit status 2, one line why) for a symmetric format.

Everything that can be wrong is checked here, once, before a worker starts: the settings (one line naming
the variable), the key ring (generated in development if missing), the database (reachable, tables
created). Workers are separate processes that build the app from the same environment
(``service.app:app_from_env``); the flags given here are passed to them as ``TOKENBENCH_*`` variables.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys

from granian import Granian
from granian.constants import Interfaces

from formats import FormatName
from formats.claims import utc_now
from service.accounts import Accounts
from service.auth.roles import Role
from service.keyring import load_format
from service.passwords import PasswordHasher
from service.settings import Environment, Settings, SettingsError
from service.stores import StoreError, open_stores
from service.verifier.client import symmetric_refusal

__all__ = ["DEMO_USERS", "register"]

DEMO_USERS = (("admin", Role.ADMIN), ("alice", Role.USER))
APP_FACTORY = "service.app:app_from_env"
VERIFIER_FACTORY = "service.verifier.app:app_from_env"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``tokenbench serve``."""
    parser = subparsers.add_parser("serve", help="run the service (granian, production ASGI server)")
    parser.add_argument(
        "--format",
        choices=[f.value for f in FormatName],
        help="token format (default: TOKENBENCH_FORMAT or paseto-v4-public)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="create or reset the users admin and alice with new random passwords, printed once "
        "(refused when TOKENBENCH_ENV=production)",
    )
    parser.add_argument(
        "--access-log", action="store_true", help="log every request (off by default: it costs throughput)"
    )
    parser.add_argument(
        "--verify-only",
        action="store_true",
        help="run a resource server that verifies the issuer's tokens with its published public keys: "
        "no private key, no database (the formats that publish public keys)",
    )
    parser.add_argument(
        "--issuer-url",
        metavar="URL",
        help="with --verify-only: the issuer's base URL (default: TOKENBENCH_ISSUER_URL)",
    )
    parser.set_defaults(run=_serve)


def _serve(args: argparse.Namespace) -> int:
    if args.workers < 1:
        print("tokenbench: error: --workers must be at least 1", file=sys.stderr)
        return 2
    environ = dict(os.environ)
    if args.format:
        environ["TOKENBENCH_FORMAT"] = args.format
    if args.issuer_url:
        environ["TOKENBENCH_ISSUER_URL"] = args.issuer_url
    settings = Settings.from_env(environ)
    if args.verify_only or args.issuer_url:
        return _serve_verify_only(args, settings, environ)
    if args.demo and settings.env is Environment.PRODUCTION:
        print(
            "tokenbench: error: --demo is refused when TOKENBENCH_ENV=production "
            "(it resets the admin password and prints it); create users with `tokenbench users create`",
            file=sys.stderr,
        )
        return 2
    load_format(settings, clock=utc_now)  # generates a first key in development; refuses bad keys
    try:
        asyncio.run(_prepare(settings, demo=args.demo))
    except StoreError as exc:
        print(f"tokenbench: error: TOKENBENCH_DATABASE_URL: {exc}", file=sys.stderr)
        return 2
    os.environ.update(environ)

    print(
        f"tokenbench: serving {settings.format.value} on http://{args.host}:{args.port} "
        f"(database {settings.database_url.masked}, {args.workers} worker(s))",
        flush=True,
    )
    Granian(
        APP_FACTORY,
        factory=True,
        interface=Interfaces.ASGI,
        address=args.host,
        port=args.port,
        workers=args.workers,
        log_access=args.access_log,
    ).serve()
    return 0


def _serve_verify_only(args: argparse.Namespace, settings: Settings, environ: dict[str, str]) -> int:
    """``--verify-only``: no keys, no database; refused for the symmetric formats (exit status 2)."""
    refusal = symmetric_refusal(settings.format)
    problem = (
        "--issuer-url needs --verify-only (an issuing service publishes its own keys)"
        if not args.verify_only
        else f"--verify-only: {refusal}"
        if refusal is not None
        else "--verify-only needs --issuer-url URL (or TOKENBENCH_ISSUER_URL)"
        if settings.issuer_url is None
        else "--verify-only has no database, so no --demo users"
        if args.demo
        else None
    )
    if problem is not None:
        print(f"tokenbench: error: {problem}", file=sys.stderr)
        return 2
    os.environ.update(environ)
    print(
        f"tokenbench: verifying {settings.format.value} tokens of {settings.issuer_url} on "
        f"http://{args.host}:{args.port} (verify-only: no private key, no database, "
        f"{args.workers} worker(s))",
        flush=True,
    )
    Granian(
        VERIFIER_FACTORY,
        factory=True,
        interface=Interfaces.ASGI,
        address=args.host,
        port=args.port,
        workers=args.workers,
        log_access=args.access_log,
    ).serve()
    return 0


async def _prepare(settings: Settings, *, demo: bool) -> None:
    stores = open_stores(settings)
    try:
        await stores.startup()
        try:
            await stores.sessions.ping()
        except StoreError as exc:
            if settings.redis_url is None:
                raise
            raise SettingsError("TOKENBENCH_REDIS_URL", str(exc)) from exc
        if demo:
            accounts = Accounts(stores=stores, hasher=PasswordHasher(settings.argon2))
            lines = []
            for username, role in DEMO_USERS:
                password = secrets.token_urlsafe(12)
                await accounts.ensure(username, role=role, password=password)
                lines.append(f"  {username:<6} role {role.value:<6} password {password}")
            print("demo users (passwords are shown only now):", *lines, sep="\n", flush=True)
    finally:
        await stores.shutdown()
