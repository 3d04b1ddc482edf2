"""``tokenbench keys``: generate, rotate, retire, list; the rotated ring still verifies old tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from formats import FormatName, Kind, load
from formats.keys import KeyRole, list_key_files
from service.cli import main


def test_keys_generate_then_rotate_keeps_the_old_key_verify_only(
    tmp_path: Path, format_name: FormatName, make_claims, policy, clock, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keys", "generate", "--format", format_name.value, "--keys-dir", str(tmp_path)]) == 0
    old_token = load(format_name, tmp_path, policy=policy, clock=clock).issue(make_claims(), kind=Kind.ACCESS)

    rotate = ["keys", "rotate", "--format", format_name.value, "--keys-dir", str(tmp_path)]
    assert main([*rotate, "--activate-after", "0"]) == 0

    files = list_key_files(tmp_path, format_name)
    assert [f.active for f in files] == [False, True]
    ring = load(format_name, tmp_path, policy=policy, clock=clock)
    assert ring.active_kid == files[-1].kid
    assert ring.verify(old_token, kind=Kind.ACCESS).sub == "user-1"
    assert main(["keys", "list", "--format", format_name.value, "--keys-dir", str(tmp_path)]) == 0
    listing = capsys.readouterr().out
    assert f"{files[-1].kid}\tactive" in listing
    assert f"{files[0].kid}\tverify-only" in listing


def test_keys_generate_refuses_a_ring_that_has_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keys", "generate", "--format", "jwt-hs256", "--keys-dir", str(tmp_path)]) == 0
    assert main(["keys", "generate", "--format", "jwt-hs256", "--keys-dir", str(tmp_path)]) == 1
    assert "use `tokenbench keys rotate" in capsys.readouterr().err
    assert len(list_key_files(tmp_path, "jwt-hs256")) == 1


def test_keys_rotate_without_keys_names_the_directory_and_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keys", "rotate", "--format", "paseto-v4-local", "--keys-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert str(tmp_path / "paseto-v4-local") in err
    assert "tokenbench keys generate --format paseto-v4-local" in err


def test_keys_generate_all_writes_one_key_per_format(tmp_path: Path) -> None:
    assert main(["keys", "generate", "--format", "all", "--keys-dir", str(tmp_path)]) == 0
    for name in FormatName:
        assert len(list_key_files(tmp_path, name)) == 1


def test_keys_rotate_by_default_activates_after_three_reload_intervals_and_five_seconds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TOKENBENCH_KEYS_RELOAD", "4")
    keys = ["--format", "jwt-es256", "--keys-dir", str(tmp_path)]
    assert main(["keys", "generate", *keys]) == 0
    before = datetime.now(UTC)
    assert main(["keys", "rotate", *keys]) == 0
    old, new = list_key_files(tmp_path, "jwt-es256")
    assert (old.role, new.role) == (KeyRole.ACTIVE, KeyRole.NEXT)
    assert new.activates is not None
    assert timedelta(seconds=17) <= new.activates - before < timedelta(seconds=18)
    out = capsys.readouterr().out
    assert f"{new.kid} verifies at once and signs from" in out
    assert "(in 17 s)" in out

    assert main(["keys", "list", *keys]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0].split("\t")[:3] == ["jwt-es256", new.kid, "next"]
    assert listing[1].split("\t")[:3] == ["jwt-es256", old.kid, "active"]


def test_keys_retire_refuses_the_last_signing_key_and_removes_an_old_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = ["--format", "paseto-v4-public", "--keys-dir", str(tmp_path)]
    assert main(["keys", "generate", *keys]) == 0
    (first,) = list_key_files(tmp_path, "paseto-v4-public")
    assert main(["keys", "retire", *keys, "--kid", first.kid]) == 2
    assert "cannot be retired" in capsys.readouterr().err

    assert main(["keys", "rotate", *keys, "--activate-after", "600"]) == 0
    assert main(["keys", "retire", *keys, "--kid", first.kid]) == 2  # the next key cannot sign yet
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "no key that can sign now" in err
    assert "--activate-after 0" in err

    assert main(["keys", "rotate", *keys, "--activate-after", "0"]) == 0
    assert main(["keys", "retire", *keys, "--kid", first.kid]) == 0
    assert f"retired {first.kid} (verify-only)" in capsys.readouterr().out
    assert first.kid not in [f.kid for f in list_key_files(tmp_path, "paseto-v4-public")]


def test_keys_rotate_refuses_a_negative_or_huge_delay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for bad in ("-1", "1.5", "999999999"):
        with pytest.raises(SystemExit) as exited:
            main(
                [
                    "keys",
                    "rotate",
                    "--format",
                    "jwt-es256",
                    "--keys-dir",
                    str(tmp_path),
                    "--activate-after",
                    bad,
                ]
            )
        assert exited.value.code == 2
    assert "--activate-after" in capsys.readouterr().err
