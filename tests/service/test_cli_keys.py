"""``tokenbench keys``: generate, rotate, list; the rotated ring still verifies old tokens."""

from __future__ import annotations

from pathlib import Path

import pytest

from formats import FormatName, Kind, load
from formats.keys import list_key_files
from service.cli import main


def test_keys_generate_then_rotate_keeps_the_old_key_verify_only(
    tmp_path: Path, format_name: FormatName, make_claims, policy, clock, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keys", "generate", "--format", format_name.value, "--keys-dir", str(tmp_path)]) == 0
    old_token = load(format_name, tmp_path, policy=policy, clock=clock).issue(make_claims(), kind=Kind.ACCESS)

    assert main(["keys", "rotate", "--format", format_name.value, "--keys-dir", str(tmp_path)]) == 0

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
