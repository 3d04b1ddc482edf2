"""Key activation times, in-place reload and retirement, over every format (issue 8 point 1).

A key file's name starts with its activation time: the newest key whose time has come signs, newer ones
are *next* keys (published and verifying at once), older ones verify-only. The activation clock is the
test's own (``activation_clock``), separate from the fixed claims clock.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from formats import FORMATS, ClaimPolicy, FormatName, KeyConfigError, Kind, TokenUnknownKey, load
from formats.inspect import explain
from formats.keys import (
    KeyRole,
    generate_key_file,
    key_directory_signature,
    list_key_files,
    retire_key_file,
)
from tests.conftest import FixedClock


@pytest.fixture
def wall() -> FixedClock:
    """An activation clock a little after the real time (key files are stamped with it), moved by hand."""
    return FixedClock(datetime.now(UTC) + timedelta(seconds=5))


def ring(name: FormatName, keys_dir: Path, policy: ClaimPolicy, clock: FixedClock, wall: FixedClock):
    return FORMATS[name].load(keys_dir, policy=policy, clock=clock, activation_clock=wall)


def test_a_next_key_verifies_at_once_and_signs_from_its_activation_time(
    format_name, tmp_path, policy, clock, wall, make_claims
) -> None:
    old = generate_key_file(tmp_path, format_name)
    new = generate_key_file(tmp_path, format_name, activates=wall.now + timedelta(seconds=30))
    assert (old.role, new.role) == (KeyRole.ACTIVE, KeyRole.NEXT)

    fmt = ring(format_name, tmp_path, policy, clock, wall)
    assert fmt.active_kid == old.kid
    assert set(fmt.kids) == {old.kid, new.kid}  # published (well-known) and verifying before it signs
    before = fmt.issue(make_claims(), kind=Kind.ACCESS)
    assert explain(before).key_id == old.kid

    # A process that loaded the ring after the activation time signs with the new key; this one, which
    # loaded it before, verifies that token already and moves on by itself at the same moment.
    wall.advance(30)
    later = ring(format_name, tmp_path, policy, clock, wall)
    assert later.active_kid == new.kid
    from_later = later.issue(make_claims(jti="jti-later"), kind=Kind.ACCESS)
    assert fmt.verify(from_later, kind=Kind.ACCESS).jti == "jti-later"
    assert explain(fmt.issue(make_claims(), kind=Kind.ACCESS)).key_id == new.kid
    assert fmt.active_kid == new.kid
    assert later.verify(before, kind=Kind.ACCESS) == make_claims()


def test_key_roles_are_listed_with_their_activation_times(format_name, tmp_path, wall) -> None:
    first = generate_key_file(tmp_path, format_name)
    second = generate_key_file(tmp_path, format_name)
    third = generate_key_file(tmp_path, format_name, activates=wall.now + timedelta(minutes=5))
    listed = list_key_files(tmp_path, format_name, clock=wall)
    assert [(f.kid, f.role) for f in listed] == [
        (first.kid, KeyRole.VERIFY_ONLY),
        (second.kid, KeyRole.ACTIVE),
        (third.kid, KeyRole.NEXT),
    ]
    assert listed[2].activates is not None
    assert abs(listed[2].activates - (wall.now + timedelta(minutes=5))) < timedelta(milliseconds=1)
    assert [f.active for f in listed] == [False, True, False]


def test_a_directory_of_the_previous_version_keeps_its_active_key(
    format_name, tmp_path, policy, clock, wall
) -> None:
    """Names stamped when written (all in the past) and a hand-named file without a stamp: newest signs."""
    directory = tmp_path / format_name.value
    directory.mkdir()
    suffix = FORMATS[format_name].key_file_suffix
    texts = [FORMATS[format_name].generate_key_text() for _ in range(3)]
    (directory / f"20250101T000000000000Z-a{suffix}").write_text(texts[0])
    (directory / f"20250601T000000000000Z-b{suffix}").write_text(texts[1])
    fmt = ring(format_name, tmp_path, policy, clock, wall)
    assert fmt.active_kid == FORMATS[format_name].key_id_of(texts[1], source="b")
    (directory / f"handmade{suffix}").write_text(texts[2])  # sorts last, no stamp: active since forever
    assert ring(format_name, tmp_path, policy, clock, wall).active_kid == FORMATS[format_name].key_id_of(
        texts[2], source="handmade"
    )


def test_reload_picks_up_a_new_key_and_keeps_serving_through_a_bad_file(
    format_name, tmp_path, policy, clock, wall, make_claims
) -> None:
    first = generate_key_file(tmp_path, format_name)
    fmt = ring(format_name, tmp_path, policy, clock, wall)
    token = fmt.issue(make_claims(), kind=Kind.ACCESS)
    signature = key_directory_signature(tmp_path, format_name)

    second = generate_key_file(tmp_path, format_name, activates=wall.now + timedelta(seconds=10))
    assert key_directory_signature(tmp_path, format_name) != signature
    fmt.reload(tmp_path)
    assert set(fmt.kids) == {first.kid, second.kid}

    bad = tmp_path / format_name.value / f"29990101T000000000000Z-bad{FORMATS[format_name].key_file_suffix}"
    bad.write_text("not a key")
    with pytest.raises(KeyConfigError, match=str(bad)):
        fmt.reload(tmp_path)
    assert set(fmt.kids) == {first.kid, second.kid}  # the running ring is untouched
    assert fmt.verify(token, kind=Kind.ACCESS) == make_claims()

    bad.unlink()
    first.path.unlink()  # retired by hand: its tokens stop verifying at the next reload
    with pytest.raises(KeyConfigError, match=r"no .* key is active yet"):
        fmt.reload(tmp_path)  # only a next key is left: nothing could sign now, so the ring is kept
    assert fmt.verify(token, kind=Kind.ACCESS) == make_claims()
    wall.advance(10)
    fmt.reload(tmp_path)
    assert fmt.kids == (second.kid,)
    with pytest.raises(TokenUnknownKey):
        fmt.verify(token, kind=Kind.ACCESS)


def test_the_directory_signature_sees_a_rewritten_file(format_name, tmp_path) -> None:
    key = generate_key_file(tmp_path, format_name)
    before = key_directory_signature(tmp_path, format_name)
    text = key.path.read_text()
    key.path.write_text(FORMATS[format_name].generate_key_text() + "\n" * (1 + len(text) % 2))
    os.utime(key.path, ns=(0, 0))  # even with an old mtime, inode/size/mtime differ from before
    assert key_directory_signature(tmp_path, format_name) != before
    assert key_directory_signature(tmp_path / "missing", format_name) == ()


def test_retire_refuses_the_last_key_that_can_sign(format_name, tmp_path, wall) -> None:
    only = generate_key_file(tmp_path, format_name)
    with pytest.raises(KeyConfigError, match="only key"):
        retire_key_file(tmp_path, format_name, only.kid, clock=wall)
    upcoming = generate_key_file(tmp_path, format_name, activates=wall.now + timedelta(minutes=1))
    with pytest.raises(KeyConfigError, match="no key that can sign now"):
        retire_key_file(tmp_path, format_name, only.kid, clock=wall)
    with pytest.raises(KeyConfigError, match="no key 'nope'"):
        retire_key_file(tmp_path, format_name, "nope", clock=wall)
    assert retire_key_file(tmp_path, format_name, upcoming.kid, clock=wall).kid == upcoming.kid  # cancelled
    assert [f.kid for f in list_key_files(tmp_path, format_name)] == [only.kid]


def test_retiring_the_active_key_falls_back_to_an_older_one_that_can_sign(
    format_name, tmp_path, wall
) -> None:
    older = generate_key_file(tmp_path, format_name)
    active = generate_key_file(tmp_path, format_name)
    retire_key_file(tmp_path, format_name, active.kid, clock=wall)
    assert not active.path.exists()
    assert load(format_name, tmp_path).active_kid == older.kid


ASYMMETRIC = [n for n in FormatName if FORMATS[n].public_document is not None]


@pytest.mark.parametrize("name", ASYMMETRIC, ids=str)
def test_a_verifier_ring_from_the_published_document_verifies_and_cannot_issue(
    name, tmp_path, policy, clock, make_claims
) -> None:
    generate_key_file(tmp_path, name)
    issuer = load(name, tmp_path, policy=policy, clock=clock)
    document = json.loads(json.dumps(issuer.well_known()[FORMATS[name].public_document]))
    verifier = FORMATS[name].from_public_document(document, source="issuer", policy=policy, clock=clock)
    assert verifier.verify(issuer.issue(make_claims(), kind=Kind.ACCESS), kind=Kind.ACCESS) == make_claims()
    assert not verifier.can_issue
    with pytest.raises(KeyConfigError, match="verifies, never issues"):
        verifier.issue(make_claims(), kind=Kind.ACCESS)


@pytest.mark.parametrize("name", ASYMMETRIC, ids=str)
def test_a_published_document_with_a_wrong_kid_or_a_private_key_is_refused(name, tmp_path) -> None:
    generate_key_file(tmp_path, name)
    issuer = load(name, tmp_path)
    document = json.loads(json.dumps(issuer.well_known()[FORMATS[name].public_document]))
    wrong_kid = {"keys": [{**document["keys"][0], "kid": "../../etc/passwd"}]}
    with pytest.raises(KeyConfigError, match=r"kid|key id"):
        FORMATS[name].from_public_document(wrong_kid, source="issuer")
    (key_path,) = (tmp_path / name.value).iterdir()
    private = key_path.read_text().strip()
    leaked = (
        {"keys": [json.loads(private)]}
        if name.value.startswith("jwt")
        else {"keys": [{"kid": issuer.active_kid, "paserk": private}]}
    )
    with pytest.raises(KeyConfigError):
        FORMATS[name].from_public_document(leaked, source="issuer")
    for empty in ({}, {"keys": []}, [], {"keys": "x"}):
        with pytest.raises(KeyConfigError, match="at least one key"):
            FORMATS[name].from_public_document(empty, source="issuer")


@pytest.mark.parametrize("name", [n for n in FormatName if FORMATS[n].public_document is None], ids=str)
def test_a_symmetric_format_has_no_verifier_ring(name) -> None:
    with pytest.raises(KeyConfigError, match="symmetric"):
        FORMATS[name].from_public_document({"keys": [{}]}, source="issuer")
