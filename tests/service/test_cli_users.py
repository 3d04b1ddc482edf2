"""``tokenbench users`` and ``tokenbench inspect``, run as the user would run them (in-process ``main``)."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import msgspec
import pytest
from sqlalchemy import text

from formats import Kind, ephemeral
from service.cli import main
from service.passwords import PasswordHasher
from service.settings import Settings
from service.stores import open_stores


@pytest.fixture
def env(monkeypatch, tmp_path: Path) -> Settings:
    monkeypatch.setenv("TOKENBENCH_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'users.db'}")
    monkeypatch.setenv("TOKENBENCH_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("TOKENBENCH_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("TOKENBENCH_ARGON2_MEMORY_COST", "8")
    monkeypatch.setenv("TOKENBENCH_ARGON2_PARALLELISM", "1")
    return Settings.from_env(
        {
            "TOKENBENCH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'users.db'}",
            "TOKENBENCH_ARGON2_TIME_COST": "1",
            "TOKENBENCH_ARGON2_MEMORY_COST": "8",
            "TOKENBENCH_ARGON2_PARALLELISM": "1",
        }
    )


def users(monkeypatch, *args: str, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(["users", *args])


def stored(settings: Settings, username: str):
    async def get():
        stores = open_stores(settings)
        try:
            return await stores.users.get(username)
        finally:
            await stores.shutdown()

    return asyncio.run(get())


def password_matches(settings: Settings, username: str, password: str) -> bool:
    record = stored(settings, username)
    return asyncio.run(PasswordHasher(settings.argon2).verify(record.password_hash, password))


def test_users_create_with_password_stdin_then_list(monkeypatch, capsys, env: Settings) -> None:
    assert (
        users(
            monkeypatch,
            "create",
            "--username",
            "bob",
            "--role",
            "admin",
            "--password-stdin",
            stdin="bob-password\n",
        )
        == 0
    )
    assert password_matches(env, "bob", "bob-password")
    assert stored(env, "bob").role == "admin"
    assert users(monkeypatch, "list") == 0
    out = capsys.readouterr().out
    assert "bob\tadmin\t" in out
    assert "argon2" not in out


def test_users_set_role_set_password_and_delete(monkeypatch, capsys, env: Settings) -> None:
    users(
        monkeypatch,
        "create",
        "--username",
        "ann",
        "--role",
        "admin",
        "--password-stdin",
        stdin="ann-password\n",
    )
    users(monkeypatch, "create", "--username", "bob", "--password-stdin", stdin="bob-password\n")
    assert stored(env, "bob").role == "user"
    assert users(monkeypatch, "set-role", "--username", "bob", "--role", "admin") == 0
    assert stored(env, "bob").role == "admin"
    assert (
        users(monkeypatch, "set-password", "--username", "bob", "--password-stdin", stdin="new-password\n")
        == 0
    )
    assert password_matches(env, "bob", "new-password")
    assert users(monkeypatch, "delete", "--username", "bob") == 0
    assert stored(env, "bob") is None
    assert "deleted bob" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["create", "--username", "bad name", "--password-stdin"], "long-enough\n", "user name must be"),
        (["create", "--username", "bob", "--password-stdin"], "short\n", "a password has 8 to 1024"),
        (["set-role", "--username", "nobody", "--role", "admin"], "", "no user nobody"),
        (["delete", "--username", "nobody"], "", "no user nobody"),
    ],
)
def test_users_errors_are_one_line_and_exit_1(monkeypatch, capsys, env, args, stdin, message) -> None:
    assert users(monkeypatch, *args, stdin=stdin) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert message in err[0]


def test_users_create_refuses_an_existing_name(monkeypatch, capsys, env) -> None:
    users(monkeypatch, "create", "--username", "bob", "--password-stdin", stdin="bob-password\n")
    assert users(monkeypatch, "create", "--username", "bob", "--password-stdin", stdin="bob-password\n") == 1
    assert "user bob already exists" in capsys.readouterr().err


def test_inspect_explains_a_token_without_verifying_it(format_name, make_claims, capsys) -> None:
    token = ephemeral(format_name).issue(make_claims(sub="alice"), kind=Kind.ACCESS)
    assert main(["inspect", token]) == 0
    out = capsys.readouterr().out
    assert f"format      {format_name.value}" in out
    assert "NOT checked" in out
    assert main(["inspect", "--json", token]) == 0
    report = msgspec.json.decode(capsys.readouterr().out)
    assert report["format"] == format_name.value
    if format_name.value == "paseto-v4-local":
        assert report["claims"] == "encrypted"
    else:
        assert report["claims"]["sub"] == "alice"


def test_inspect_refuses_garbage_with_one_line(monkeypatch, capsys) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("not.a-token\n"))
    assert main(["inspect", "-"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("tokenbench: error: not a tokenbench token")


def test_users_list_shows_which_hashes_use_outdated_argon2_parameters(monkeypatch, capsys, env) -> None:
    users(monkeypatch, "create", "--username", "ann", "--password-stdin", stdin="ann-password\n")
    users(monkeypatch, "create", "--username", "bob", "--password-stdin", stdin="bob-password\n")
    monkeypatch.setenv("TOKENBENCH_ARGON2_TIME_COST", "2")  # the parameters changed since: both outdated
    users(monkeypatch, "set-password", "--username", "bob", "--password-stdin", stdin="bob-password-2\n")
    capsys.readouterr()

    assert users(monkeypatch, "list") == 0

    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert [(row[0], row[-1]) for row in rows] == [("ann", "outdated"), ("bob", "current")]


def test_users_refuse_to_demote_or_delete_the_last_admin(monkeypatch, capsys, env) -> None:
    users(
        monkeypatch,
        "create",
        "--username",
        "ann",
        "--role",
        "admin",
        "--password-stdin",
        stdin="ann-password\n",
    )
    capsys.readouterr()
    for args in (["set-role", "--username", "ann", "--role", "user"], ["delete", "--username", "ann"]):
        assert users(monkeypatch, *args) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert err == ["tokenbench: error: ann is the last admin; make another user admin first"]
    assert stored(env, "ann").role == "admin"


def test_users_delete_repeated_still_revokes(monkeypatch, capsys, env) -> None:
    """A delete whose revocation failed is completed by running it again (the user is already gone)."""

    async def leftover_session() -> int:
        stores = open_stores(env)
        try:
            await stores.startup()
            await stores.sessions.start("f", username="gone", jti="j", expires_at=9e9, now=0.0, generation=0)
            return await stores.sessions.generation("gone")
        finally:
            await stores.shutdown()

    assert asyncio.run(leftover_session()) == 0
    assert users(monkeypatch, "delete", "--username", "gone") == 1
    assert "no user gone" in capsys.readouterr().err

    async def revoked() -> bool:
        stores = open_stores(env)
        try:
            record = await stores.sessions.get("f")
            return record is not None and record.revoked_at is not None
        finally:
            await stores.shutdown()

    assert asyncio.run(revoked())


def test_serve_demo_is_refused_in_production(monkeypatch, capsys, tmp_path: Path) -> None:
    monkeypatch.setenv("TOKENBENCH_ENV", "production")
    monkeypatch.setenv("TOKENBENCH_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'prod.db'}")
    monkeypatch.setenv("TOKENBENCH_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("TOKENBENCH_ARGON2_TIME_COST", "3")
    monkeypatch.setenv("TOKENBENCH_ARGON2_MEMORY_COST", "65536")
    monkeypatch.setenv("TOKENBENCH_ISSUER", "https://tokenbench.example")
    monkeypatch.setenv("TOKENBENCH_AUDIENCE", "tokenbench")

    assert main(["serve", "--demo"]) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("tokenbench: error: --demo is refused when TOKENBENCH_ENV=production")
    assert not (tmp_path / "prod.db").exists()


@pytest.mark.parametrize("action", ["set-role", "set-password", "delete"])
def test_a_hostile_name_is_refused_by_the_rule_not_taken_for_a_database_outage(
    monkeypatch, capsys, tmp_path: Path, request: pytest.FixtureRequest, action: str
) -> None:
    """On PostgreSQL, where a NUL byte is a data error: the CLI checks the name first (one line, status 1)."""
    monkeypatch.setenv("TOKENBENCH_DATABASE_URL", request.getfixturevalue("postgres_database"))
    extra = {"set-role": ["--role", "admin"], "set-password": ["--password-stdin"], "delete": []}[action]
    assert users(monkeypatch, action, "--username", "a\x00b", *extra, stdin="new-password-1\n") == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("tokenbench: error: "), lines
    assert "TOKENBENCH_DATABASE_URL" not in lines[0]


def test_a_database_with_names_differing_only_in_case_stops_the_command_with_one_line(
    monkeypatch, capsys, env: Settings
) -> None:
    """An earlier version let ``Bob`` and ``bob`` both in: the operator is told which, and how to keep one."""
    assert (
        users(
            monkeypatch,
            "create",
            "--username",
            "bob",
            "--role",
            "user",
            "--password-stdin",
            stdin="pw-12345678\n",
        )
        == 0
    )

    async def plant() -> None:  # as an earlier version would have stored it
        stores = open_stores(env)
        try:
            engine = stores.users._engine  # type: ignore[attr-defined]
            async with engine.begin() as conn:
                await conn.execute(text("DROP INDEX ux_tokenbench_users_username_lower"))
                await conn.execute(text("INSERT INTO tokenbench_users VALUES ('Bob', 'admin', 'h', 0)"))
        finally:
            await stores.shutdown()

    asyncio.run(plant())
    capsys.readouterr()
    assert users(monkeypatch, "list") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(
        "tokenbench: error: TOKENBENCH_DATABASE_URL: user names are case-insensitive, and these users differ "
        "only in case: 'Bob', 'bob'; keep one of each and delete the others "
        "(e.g. DELETE FROM tokenbench_users WHERE username = 'Bob';), then start again"
    )
