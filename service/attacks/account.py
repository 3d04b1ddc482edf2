"""Rows for the account layer: what a token says is not what the user's current state allows.

* stale privilege: an admin demoted or deleted while its access token is still valid tries the admin
  writes (create an admin, re-promote itself, demote the others); and the last admin demotes itself;
* the login/reset race: an operator resets the password, deletes the user or demotes it while the
  attacker's login (with the old password) is past its user read and waiting for its argon2 check.

Both need the operator's part (users created and changed through the account rules), so they run
in-process only; against ``--url`` they are "not run".
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Final

from service.attacks.context import Context
from service.attacks.model import (
    REJECT,
    AccountChange,
    Applicability,
    Attack,
    Expect,
    Observation,
    Outcome,
    Reply,
    Section,
    every,
)

__all__ = ["ATTACKS"]

INVALID_CREDENTIALS: Final = "invalid_credentials"
ROLE_REVOKED: Final = "role_revoked"
LAST_ADMIN: Final = "last_admin"


def _refused(variant: str, reply: Reply, status: int, code: str) -> Observation:
    """HELD for exactly ``status`` and ``code``; ACCEPTED for a success; ERROR for 5xx; else UNEXPECTED."""
    expected = f"{status} {code}"
    seen = f"{reply.status} {reply.code}" if reply.code else str(reply.status)
    if reply.status >= 500:
        outcome = Outcome.ERROR
    elif reply.status < 400:
        outcome = Outcome.ACCEPTED
    elif (reply.status, reply.code) == (status, code):
        outcome = Outcome.HELD
    else:
        outcome = Outcome.UNEXPECTED
    return Observation(variant, outcome, seen, expected)


def _password() -> str:
    return secrets.token_urlsafe(16)


# --- ACCOUNT-STALE-PRIVILEGE -------------------------------------------------------------------------


def stale_privilege(ctx: Context) -> Iterator[Observation]:
    """A demoted or deleted admin's still-valid access token against every admin write."""
    api, operator = ctx.require_http(), ctx.require_operator()
    demoted, keeper, deleted = (_password() for _ in range(3))
    operator.ensure("stale-admin", demoted, admin=True)
    operator.ensure("keeper-admin", keeper, admin=True)
    operator.ensure("deleted-admin", deleted, admin=True)
    tokens = {
        name: api.login_as(name, pw) for name, pw in (("stale-admin", demoted), ("deleted-admin", deleted))
    }
    if any(reply.access_token is None for reply in tokens.values()):
        for name, reply in tokens.items():
            yield api.judge(f"login as {name} (setup)", reply, "200")
        return
    stale, gone = (str(tokens[name].access_token) for name in ("stale-admin", "deleted-admin"))
    operator.set_admin("stale-admin", admin=False)
    operator.delete("deleted-admin")
    yield _refused(
        "demoted admin creates a new admin",
        api.create_user(stale, "stale-created", _password(), "admin"),
        403,
        ROLE_REVOKED,
    )
    yield _refused(
        "demoted admin re-promotes itself", api.change_role(stale, "stale-admin", "admin"), 403, ROLE_REVOKED
    )
    yield _refused(
        "demoted admin demotes the remaining admin",
        api.change_role(stale, "keeper-admin", "user"),
        403,
        ROLE_REVOKED,
    )
    yield _refused(
        "deleted admin creates a new admin",
        api.create_user(gone, "gone-created", _password(), "admin"),
        403,
        ROLE_REVOKED,
    )
    last = api.login_as("keeper-admin", keeper)
    if last.access_token is None:
        yield api.judge("login as keeper-admin (setup)", last, "200")
        return
    yield _refused(
        "the last admin demotes itself",
        api.change_role(last.access_token, "keeper-admin", "user"),
        409,
        LAST_ADMIN,
    )


# --- ACCOUNT-LOGIN-RESET-RACE ------------------------------------------------------------------------


def login_reset_race(ctx: Context) -> Iterator[Observation]:
    """The attacker's login with the old password, in flight while the operator resets, deletes or demotes.

    The user's stored hash uses outdated argon2 parameters, so a login that got through would also rehash
    the *old* password over the reset one; the last variant checks the old password stays dead.
    """
    api, operator = ctx.require_http(), ctx.require_operator()
    operator.ensure("race-keeper", _password(), admin=True)  # the demoted user is not the last admin
    for change in AccountChange:
        name, password = f"race-{change.name.lower()}", _password()
        operator.ensure(name, password, admin=change is AccountChange.DEMOTE)
        operator.store_outdated_hash(name, password)
        operator.during_next_login(name, change)
        yield api.judge(
            f"login with the old password during a {change}",
            api.login_as(name, password),
            INVALID_CREDENTIALS,
        )
        if change is AccountChange.RESET:
            yield api.judge(
                "the old password after the reset (the in-flight login must not rehash it back)",
                api.login_as(name, password),
                INVALID_CREDENTIALS,
            )


ATTACKS: Final = (
    Attack(
        "ACCOUNT-STALE-PRIVILEGE",
        "Admin demoted or deleted, its access token still valid: create an admin, re-promote, demote others",
        Section.ACCOUNT,
        every(
            Applicability(
                Expect.HOLD,
                "admin writes read the caller's current role (403 role_revoked); the last admin stays (409)",
            )
        ),
        scenario=stale_privilege,
        library_note="Not a token matter: the token is genuine and unexpired; the database decides.",
        extra=True,
        library_decides=False,
    ),
    Attack(
        "ACCOUNT-LOGIN-RESET-RACE",
        "Login with the old password in flight while the password is reset, the user deleted or demoted",
        Section.ACCOUNT,
        every(REJECT),
        scenario=login_reset_race,
        library_note="Not a token matter: the login acts on the user's current state and session generation.",
        extra=True,
        library_decides=False,
    ),
)
