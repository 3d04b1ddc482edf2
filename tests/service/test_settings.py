"""Settings from ``TOKENBENCH_*``: defaults, accepted spellings, and one clear line for every bad value,
both from ``Settings.from_env`` and from the ``tokenbench`` process (exit status 2)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from formats import FormatName
from formats.keys import list_key_files
from service.cli import main
from service.keyring import ensure_keys
from service.settings import Environment, RateLimit, Settings, SettingsError


def test_defaults_are_those_of_the_design() -> None:
    settings = Settings.from_env({})
    assert settings.format is FormatName.PASETO_V4_PUBLIC
    assert settings.env is Environment.DEVELOPMENT
    assert settings.database_url.reveal() == "sqlite+aiosqlite:///var/tokenbench.db"
    assert settings.redis_url is None
    assert settings.keys_dir == Path("var/keys")
    assert (settings.access_ttl, settings.refresh_ttl, settings.leeway) == (900, 7 * 24 * 3600, 30)
    assert settings.refresh_grace == 10
    assert settings.session_max_age == 30 * 24 * 3600
    assert settings.login_rate_limit == RateLimit(count=10, period=60)
    assert settings.login_address_rate_limit == RateLimit(count=30, period=60)
    assert settings.login_account_rate_limit == RateLimit(count=100, period=3600)
    assert settings.argon2_queue == 8
    assert settings.login_ipv6_prefix == 56
    assert (settings.issuer, settings.audience) == (None, None)
    assert settings.cookie_secure is True
    assert settings.accept_formats == ()


def test_accepted_formats_are_a_comma_separated_list_in_order() -> None:
    settings = Settings.from_env(
        {"TOKENBENCH_FORMAT": "jwt-es256", "TOKENBENCH_ACCEPT_FORMATS": " paseto-v4-local, JWT-HS256 "}
    )
    assert settings.accept_formats == (FormatName.PASETO_V4_LOCAL, FormatName.JWT_HS256)


def test_every_variable_is_read() -> None:
    settings = Settings.from_env(
        {
            "TOKENBENCH_FORMAT": "jwt-es256",
            "TOKENBENCH_ENV": "production",
            "TOKENBENCH_DATABASE_URL": "postgresql://app:s3cret@db.internal:5432/tokens",
            "TOKENBENCH_REDIS_URL": "redis://:hunter2@cache:6379/1",
            "TOKENBENCH_KEYS_DIR": "/etc/tokenbench/keys",
            "TOKENBENCH_ACCESS_TTL": "300",
            "TOKENBENCH_REFRESH_TTL": "86400",
            "TOKENBENCH_LEEWAY": "0",
            "TOKENBENCH_REFRESH_GRACE": "0",
            "TOKENBENCH_SESSION_MAX_AGE": "86400",
            "TOKENBENCH_LOGIN_RATE_LIMIT": "1/second",
            "TOKENBENCH_LOGIN_IPV6_PREFIX": "48",
            "TOKENBENCH_LOGIN_ADDRESS_RATE_LIMIT": "20/hour",
            "TOKENBENCH_LOGIN_ACCOUNT_RATE_LIMIT": "50/day",
            "TOKENBENCH_ARGON2_QUEUE": "0",
            "TOKENBENCH_ISSUER": "https://auth.example",
            "TOKENBENCH_AUDIENCE": "api.example",
            "TOKENBENCH_COOKIE_SECURE": "true",
            "TOKENBENCH_ARGON2_TIME_COST": "4",
            "TOKENBENCH_ARGON2_MEMORY_COST": "131072",
            "TOKENBENCH_ARGON2_PARALLELISM": "2",
        }
    )
    assert settings.format is FormatName.JWT_ES256
    assert settings.env is Environment.PRODUCTION
    assert settings.database_url.reveal() == "postgresql+asyncpg://app:s3cret@db.internal:5432/tokens"
    assert settings.redis_url is not None
    assert settings.redis_url.reveal() == "redis://:hunter2@cache:6379/1"
    assert settings.keys_dir == Path("/etc/tokenbench/keys")
    assert (settings.access_ttl, settings.refresh_ttl, settings.leeway, settings.refresh_grace) == (
        300,
        86400,
        0,
        0,
    )
    assert settings.session_max_age == 86400
    assert settings.login_rate_limit == RateLimit(count=1, period=1)
    assert settings.login_ipv6_prefix == 48
    assert settings.login_address_rate_limit == RateLimit(count=20, period=3600)
    assert settings.login_account_rate_limit == RateLimit(count=50, period=86400)
    assert settings.argon2_queue == 0
    assert settings.policy.issuer == "https://auth.example"
    assert settings.policy.audience == "api.example"
    assert (settings.argon2.time_cost, settings.argon2.memory_cost, settings.argon2.parallelism) == (
        4,
        131072,
        2,
    )


def test_secrets_never_show_in_repr() -> None:
    settings = Settings.from_env(
        {
            "TOKENBENCH_DATABASE_URL": "postgresql://app:s3cret@db/tokens",
            "TOKENBENCH_REDIS_URL": "redis://:hunter2@cache:6379/1",
        }
    )
    shown = repr(settings) + str(settings.database_url) + str(settings.redis_url)
    assert "s3cret" not in shown
    assert "hunter2" not in shown
    assert "db/tokens" in shown


def test_rate_limit_off_disables_it() -> None:
    assert Settings.from_env({"TOKENBENCH_LOGIN_RATE_LIMIT": "off"}).login_rate_limit is None
    assert Settings.from_env({"TOKENBENCH_LOGIN_ADDRESS_RATE_LIMIT": "OFF"}).login_address_rate_limit is None
    assert Settings.from_env({"TOKENBENCH_LOGIN_ACCOUNT_RATE_LIMIT": "off"}).login_account_rate_limit is None


BAD_VALUES = [
    ("TOKENBENCH_FORMAT", "jwt-none"),
    ("TOKENBENCH_FORMAT", "paseto-v2-public"),
    ("TOKENBENCH_ACCEPT_FORMATS", "jwt-none"),
    ("TOKENBENCH_ACCEPT_FORMATS", "paseto-v4-public"),  # the issued format (the default) listed again
    ("TOKENBENCH_ACCEPT_FORMATS", "jwt-hs256,JWT-HS256"),
    ("TOKENBENCH_ACCEPT_FORMATS", "jwt-hs256,"),
    ("TOKENBENCH_ENV", "staging"),
    ("TOKENBENCH_DATABASE_URL", "mysql://root@db/tokens"),
    ("TOKENBENCH_DATABASE_URL", "sqlite+aiosqlite://"),
    ("TOKENBENCH_DATABASE_URL", "not a url"),
    ("TOKENBENCH_DATABASE_URL", "postgresql://db"),
    ("TOKENBENCH_REDIS_URL", "memcached://cache"),
    ("TOKENBENCH_REDIS_URL", "redis://cache:63790x/0"),
    ("TOKENBENCH_REDIS_URL", "redis://cache:6379/0?socket_timeout=soon"),
    ("TOKENBENCH_ACCESS_TTL", "0"),
    ("TOKENBENCH_ACCESS_TTL", "-5"),
    ("TOKENBENCH_ACCESS_TTL", "15m"),
    ("TOKENBENCH_ACCESS_TTL", "1.5"),
    ("TOKENBENCH_REFRESH_TTL", "0"),
    ("TOKENBENCH_REFRESH_TTL", "week"),
    ("TOKENBENCH_LEEWAY", "301"),
    ("TOKENBENCH_LEEWAY", "86400"),
    ("TOKENBENCH_LEEWAY", "-1"),
    ("TOKENBENCH_REFRESH_GRACE", "301"),
    ("TOKENBENCH_REFRESH_GRACE", "ten"),
    ("TOKENBENCH_LOGIN_RATE_LIMIT", "10"),
    ("TOKENBENCH_LOGIN_RATE_LIMIT", "0/minute"),
    ("TOKENBENCH_LOGIN_RATE_LIMIT", "10/fortnight"),
    ("TOKENBENCH_SESSION_MAX_AGE", "0"),
    ("TOKENBENCH_SESSION_MAX_AGE", "3600"),  # under the default TOKENBENCH_REFRESH_TTL of 7 days
    ("TOKENBENCH_SESSION_MAX_AGE", "30d"),
    ("TOKENBENCH_SESSION_MAX_AGE", "9999999999"),
    ("TOKENBENCH_LOGIN_ADDRESS_RATE_LIMIT", "30"),
    ("TOKENBENCH_LOGIN_ADDRESS_RATE_LIMIT", "0/minute"),
    ("TOKENBENCH_LOGIN_ACCOUNT_RATE_LIMIT", "100/week"),
    ("TOKENBENCH_LOGIN_ACCOUNT_RATE_LIMIT", "-1/hour"),
    ("TOKENBENCH_LOGIN_IPV6_PREFIX", "47"),
    ("TOKENBENCH_LOGIN_IPV6_PREFIX", "65"),
    ("TOKENBENCH_LOGIN_IPV6_PREFIX", "/56"),
    ("TOKENBENCH_LOGIN_IPV6_PREFIX", "128"),
    ("TOKENBENCH_ARGON2_QUEUE", "-1"),
    ("TOKENBENCH_ARGON2_QUEUE", "10001"),
    ("TOKENBENCH_ARGON2_QUEUE", "many"),
    ("TOKENBENCH_COOKIE_SECURE", "maybe"),
    ("TOKENBENCH_ARGON2_TIME_COST", "0"),
    ("TOKENBENCH_ARGON2_MEMORY_COST", "4"),
    ("TOKENBENCH_ARGON2_MEMORY_COST", "4"),  # under 8 KiB per lane with the default parallelism 1
    ("TOKENBENCH_ARGON2_PARALLELISM", "0"),
    ("TOKENBENCH_KEYS_RELOAD", "0"),
    ("TOKENBENCH_KEYS_RELOAD", "3601"),
    ("TOKENBENCH_KEYS_RELOAD", "10s"),
    ("TOKENBENCH_ISSUER_URL", "ftp://issuer.example"),
    ("TOKENBENCH_ISSUER_URL", "issuer.example"),
    ("TOKENBENCH_ISSUER_URL", "https://"),
    ("TOKENBENCH_ISSUER_URL", "https://issuer.example:80x"),
    ("TOKENBENCH_ISSUER_URL", "https://issuer.example/?next=evil"),
]


def test_keys_reload_and_issuer_url_defaults_and_values() -> None:
    default = Settings.from_env({})
    assert (default.keys_reload, default.issuer_url) == (10, None)
    custom = Settings.from_env(
        {"TOKENBENCH_KEYS_RELOAD": "3600", "TOKENBENCH_ISSUER_URL": "https://auth.example:8443/tb/"}
    )
    assert (custom.keys_reload, custom.issuer_url) == (3600, "https://auth.example:8443/tb")


@pytest.mark.parametrize(("variable", "value"), BAD_VALUES, ids=[f"{v}={x}" for v, x in BAD_VALUES])
def test_a_bad_value_is_one_line_naming_the_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as excinfo:
        Settings.from_env({variable: value})
    message = str(excinfo.value)
    assert message.startswith(f"{variable}: ")
    assert "\n" not in message
    assert excinfo.value.variable == variable


PRODUCTION = {
    "TOKENBENCH_ENV": "production",
    "TOKENBENCH_ISSUER": "https://auth.example",
    "TOKENBENCH_AUDIENCE": "api.example",
}


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TOKENBENCH_COOKIE_SECURE", "false"),
        ("TOKENBENCH_ARGON2_MEMORY_COST", "1024"),
        ("TOKENBENCH_ARGON2_TIME_COST", "1"),
        ("TOKENBENCH_LOGIN_RATE_LIMIT", "off"),
        ("TOKENBENCH_ISSUER", ""),
        ("TOKENBENCH_AUDIENCE", " "),
        ("TOKENBENCH_LOGIN_ADDRESS_RATE_LIMIT", "off"),
        ("TOKENBENCH_LOGIN_ACCOUNT_RATE_LIMIT", "off"),
        ("TOKENBENCH_LOGIN_RATE_LIMIT", "999999/second"),
        ("TOKENBENCH_LOGIN_RATE_LIMIT", "2/second"),
        ("TOKENBENCH_LOGIN_ADDRESS_RATE_LIMIT", "61/minute"),
        ("TOKENBENCH_LOGIN_ACCOUNT_RATE_LIMIT", "1001/hour"),
        ("TOKENBENCH_LOGIN_ACCOUNT_RATE_LIMIT", "86400/day"),
        ("TOKENBENCH_ACCESS_TTL", "3601"),
        ("TOKENBENCH_ACCESS_TTL", "31536000"),
    ],
)
def test_production_refuses_development_conveniences(variable: str, value: str) -> None:
    Settings.from_env({variable: value})  # fine in development
    with pytest.raises(SettingsError, match=f"^{variable}: ") as excinfo:
        Settings.from_env({**PRODUCTION, variable: value})
    assert "\n" not in str(excinfo.value)


def test_production_starts_with_issuer_audience_and_a_rate_limit() -> None:
    assert Settings.from_env(PRODUCTION).env is Environment.PRODUCTION


def test_production_starts_with_the_highest_limits_it_allows() -> None:
    highest = {
        "TOKENBENCH_LOGIN_RATE_LIMIT": "60/minute",
        "TOKENBENCH_LOGIN_ADDRESS_RATE_LIMIT": "1000/hour",
        "TOKENBENCH_LOGIN_ACCOUNT_RATE_LIMIT": "1000/day",
        "TOKENBENCH_ACCESS_TTL": "3600",
    }
    settings = Settings.from_env({**PRODUCTION, **highest})
    assert settings.login_rate_limit == RateLimit(count=60, period=60)
    assert settings.access_ttl == 3600


def test_an_absurd_production_rate_limit_is_one_line_naming_the_variable_and_the_maximum() -> None:
    with pytest.raises(SettingsError) as excinfo:
        Settings.from_env({**PRODUCTION, "TOKENBENCH_LOGIN_RATE_LIMIT": "999999/second"})
    assert str(excinfo.value) == (
        "TOKENBENCH_LOGIN_RATE_LIMIT: production allows at most 1 attempt per second on average and 1000 "
        "per window (at most 60/minute, 1000/hour, 1000/day), got '999999/second'"
    )


def test_session_max_age_follows_a_longer_refresh_ttl_only_when_set() -> None:
    with pytest.raises(SettingsError, match=r"^TOKENBENCH_SESSION_MAX_AGE: .*TOKENBENCH_REFRESH_TTL"):
        Settings.from_env({"TOKENBENCH_REFRESH_TTL": str(60 * 24 * 3600)})
    settings = Settings.from_env(
        {"TOKENBENCH_REFRESH_TTL": str(60 * 24 * 3600), "TOKENBENCH_SESSION_MAX_AGE": str(90 * 24 * 3600)}
    )
    assert settings.session_max_age == 90 * 24 * 3600


# --- the process: exit status and the one line ------------------------------------------------------


def test_tokenbench_serve_exits_2_with_one_line_naming_the_variable(tmp_path: Path) -> None:
    env = {**os.environ, "TOKENBENCH_LEEWAY": "3600", "TOKENBENCH_KEYS_DIR": str(tmp_path / "keys")}
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", "serve", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "tokenbench: error: TOKENBENCH_LEEWAY: must be an integer between 0 and 300, got '3600'"
    ]
    assert not (tmp_path / "keys").exists()


def serve_error(monkeypatch, capsys, tmp_path: Path, **env: str) -> str:
    monkeypatch.setenv("TOKENBENCH_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("TOKENBENCH_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["serve", "--port", "1"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_production_without_keys_refuses_to_start(monkeypatch, capsys, tmp_path: Path) -> None:
    line = serve_error(monkeypatch, capsys, tmp_path, **PRODUCTION, TOKENBENCH_FORMAT="jwt-hs256")
    assert str(tmp_path / "keys" / "jwt-hs256") in line
    assert "tokenbench keys generate --format jwt-hs256" in line
    assert not (tmp_path / "keys").exists()


def test_an_unusable_key_file_refuses_to_start_naming_the_file(monkeypatch, capsys, tmp_path: Path) -> None:
    bad = tmp_path / "keys" / "paseto-v4-public" / "20260101T000000000000Z-bad.paserk"
    bad.parent.mkdir(parents=True)
    bad.write_text("k4.local.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n")
    line = serve_error(monkeypatch, capsys, tmp_path, TOKENBENCH_FORMAT="paseto-v4-public")
    assert line.startswith("tokenbench: error: ")
    assert str(bad) in line


def test_a_weak_hs256_secret_refuses_to_start(monkeypatch, capsys, tmp_path: Path) -> None:
    weak = tmp_path / "keys" / "jwt-hs256" / "20260101T000000000000Z-weak.jwk"
    weak.parent.mkdir(parents=True)
    weak.write_text('{"kty": "oct", "kid": "weak", "k": "c2hvcnQtc2VjcmV0"}\n')
    line = serve_error(monkeypatch, capsys, tmp_path, TOKENBENCH_FORMAT="jwt-hs256")
    assert str(weak) in line


def test_an_unreachable_database_refuses_to_start(monkeypatch, capsys, tmp_path: Path) -> None:
    monkeypatch.setenv("TOKENBENCH_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("TOKENBENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:1/test")
    assert main(["serve", "--port", "1"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1].startswith("tokenbench: error: TOKENBENCH_DATABASE_URL: database unavailable")


def test_development_generates_a_missing_key_with_a_warning(tmp_path: Path, caplog) -> None:
    settings = Settings.from_env({"TOKENBENCH_KEYS_DIR": str(tmp_path), "TOKENBENCH_FORMAT": "jwt-es256"})
    ensure_keys(settings)
    assert len(list_key_files(tmp_path, "jwt-es256")) == 1
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "development only" in caplog.records[0].getMessage()
    ensure_keys(settings)  # an existing ring is left alone
    assert len(list_key_files(tmp_path, "jwt-es256")) == 1


def test_an_unreachable_redis_refuses_to_start_naming_redis(monkeypatch, capsys, tmp_path: Path) -> None:
    monkeypatch.setenv("TOKENBENCH_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("TOKENBENCH_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    monkeypatch.setenv("TOKENBENCH_REDIS_URL", "redis://127.0.0.1:1/0")
    assert main(["serve", "--port", "1"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1].startswith("tokenbench: error: TOKENBENCH_REDIS_URL: redis unavailable"), lines


def test_an_accepted_format_without_keys_stops_serve_with_one_line(
    monkeypatch, capsys, tmp_path: Path
) -> None:
    line = serve_error(
        monkeypatch, capsys, tmp_path, TOKENBENCH_FORMAT="jwt-es256", TOKENBENCH_ACCEPT_FORMATS="jwt-hs256"
    )
    assert line.startswith("tokenbench: error: TOKENBENCH_ACCEPT_FORMATS: jwt-hs256: ")
    assert str(tmp_path / "keys" / "jwt-hs256") in line
    assert not (tmp_path / "keys" / "jwt-hs256").exists()
