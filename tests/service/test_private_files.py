"""Files holding secrets: the SQLite database (and its -wal/-shm) is created 0600, and production refuses
to start while group or others can read the database or a key file, naming the file and the ``chmod``."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from formats import FormatName, KeyConfigError
from formats.claims import utc_now
from formats.keys import generate_key_file
from service.cli import main
from service.keyring import KeyReloader, load_format
from service.settings import Environment, Secret, Settings, SettingsError
from service.stores import open_stores
from service.stores.sql import SqlUserStore

PRODUCTION_ENV = {
    "TOKENBENCH_ENV": "production",
    "TOKENBENCH_ISSUER": "https://auth.example",
    "TOKENBENCH_AUDIENCE": "api.example",
}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The common default umask, under which SQLite alone would create the database 0644."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def production(tmp_path: Path, fmt: FormatName = FormatName.JWT_HS256) -> Settings:
    url = f"sqlite+aiosqlite:///{tmp_path / 'db' / 'tokenbench.db'}"
    return Settings(
        format=fmt,
        env=Environment.PRODUCTION,
        database_url=Secret(url, shown=url),
        keys_dir=tmp_path / "keys",
        issuer="https://auth.example",
        audience="api.example",
    )


@pytest.mark.usefixtures("umask_022")
def test_the_sqlite_database_and_its_wal_and_shm_are_created_0600(tmp_path: Path) -> None:
    settings = production(tmp_path)
    database = tmp_path / "db" / "tokenbench.db"

    async def use() -> None:
        stores = open_stores(settings)
        await stores.startup()
        users = stores.users
        assert isinstance(users, SqlUserStore)
        await users.create("alice", role="user", password_hash="x", now=0.0)
        assert Path(f"{database}-wal").exists()  # checked while the connection is open (WAL mode)
        assert {mode(database), mode(Path(f"{database}-wal")), mode(Path(f"{database}-shm"))} == {0o600}
        await stores.shutdown()

    asyncio.run(use())
    assert mode(database.parent) == 0o700


def test_production_refuses_a_database_readable_by_others(tmp_path: Path) -> None:
    settings = production(tmp_path)
    database = tmp_path / "db" / "tokenbench.db"
    database.parent.mkdir()
    database.touch(mode=0o644)
    os.chmod(database, 0o644)
    with pytest.raises(SettingsError) as excinfo:
        open_stores(settings)
    message = str(excinfo.value)
    assert message.startswith(f"TOKENBENCH_DATABASE_URL: {database} (mode 0644): ")
    assert message.endswith(f"run `chmod 600 {database}`")
    os.chmod(database, 0o600)
    open_stores(settings)  # fixed: starts


@pytest.mark.parametrize("fmt", list(FormatName), ids=str)
def test_production_refuses_a_key_file_readable_by_group_or_others(tmp_path: Path, fmt: FormatName) -> None:
    settings = production(tmp_path, fmt)
    key = generate_key_file(settings.keys_dir, fmt)
    load_format(settings, clock=utc_now)  # 0600: loads
    os.chmod(key.path, 0o640)
    with pytest.raises(KeyConfigError) as excinfo:
        load_format(settings, clock=utc_now)
    message = str(excinfo.value)
    assert message.startswith(f"{key.path} (mode 0640): key files are readable by group or others")
    assert message.endswith(f"run `chmod 600 {key.path}`")


def test_development_loads_a_key_file_readable_by_others(tmp_path: Path) -> None:
    settings = production(tmp_path)
    settings = Settings(format=settings.format, keys_dir=settings.keys_dir)
    os.chmod(generate_key_file(settings.keys_dir, settings.format).path, 0o644)
    load_format(settings, clock=utc_now)


def test_tokenbench_serve_prints_the_refusal_in_one_line(monkeypatch, capsys, tmp_path: Path) -> None:
    settings = production(tmp_path)
    key = generate_key_file(settings.keys_dir, settings.format)
    os.chmod(key.path, 0o604)
    for name, value in {
        **PRODUCTION_ENV,
        "TOKENBENCH_FORMAT": settings.format.value,
        "TOKENBENCH_KEYS_DIR": str(settings.keys_dir),
        "TOKENBENCH_DATABASE_URL": settings.database_url.reveal(),
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["serve", "--port", "1"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [
        f"tokenbench: error: {key.path} (mode 0604): key files are readable by group or others and "
        f"TOKENBENCH_ENV=production; run `chmod 600 {key.path}`"
    ]


def test_a_reload_in_production_ignores_a_new_key_file_readable_by_others(tmp_path: Path, caplog) -> None:
    settings = production(tmp_path)
    generate_key_file(settings.keys_dir, settings.format)
    fmt = load_format(settings, clock=utc_now)
    reloader = KeyReloader(fmt, settings)
    old = fmt.active_kid
    added = generate_key_file(settings.keys_dir, settings.format)
    os.chmod(added.path, 0o644)
    with caplog.at_level(logging.ERROR, logger="tokenbench"):
        assert reloader.check() is False
    assert f"run `chmod 600 {added.path}`" in caplog.text
    assert fmt.active_kid == old
