"""The service's key reloader: a stat per interval, a parse only on change, a bad file logged and ignored."""

from __future__ import annotations

import json
import logging

import pytest

from formats import FORMATS, FormatName, Kind
from formats._codec import b64url_encode
from formats._jwt_common import thumbprint_of
from formats.keys import generate_key_file
from service.keyring import KeyReloader, default_activation_delay, load_format
from service.settings import Settings


def test_default_activation_delay_covers_issuers_verifiers_and_a_margin() -> None:
    assert default_activation_delay(10) == 35
    assert default_activation_delay(1) == 8


def test_the_reloader_parses_only_on_change_and_keeps_the_ring_through_a_bad_file(
    settings, clock, make_claims, caplog: pytest.LogCaptureFixture
) -> None:
    fmt = load_format(settings, clock=clock)  # generates the first key (development)
    first = fmt.active_kid
    token = fmt.issue(make_claims(), kind=Kind.ACCESS)
    reloader = KeyReloader(fmt, settings)
    assert reloader.check() is False  # nothing changed: no parse

    second = generate_key_file(settings.keys_dir, settings.format)
    assert reloader.check() is True
    assert fmt.active_kid == second.kid
    assert set(fmt.kids) == {first, second.kid}

    suffix = FORMATS[settings.format].key_file_suffix
    bad = settings.keys_dir / settings.format.value / f"29990101T000000000000Z-bad{suffix}"
    bad.write_text("garbage")
    with caplog.at_level(logging.ERROR, logger="tokenbench"):
        assert reloader.check() is False
        assert reloader.check() is False  # the same bad state is logged once
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert str(bad) in errors[0].getMessage()
    assert "still serving the old ring" in errors[0].getMessage()
    assert fmt.verify(token, kind=Kind.ACCESS) == make_claims()
    assert set(fmt.kids) == {first, second.kid}

    bad.unlink()
    assert reloader.check() is True


def test_the_reloader_refuses_a_key_shared_with_another_format(tmp_path, clock, caplog) -> None:
    settings = Settings(format=FormatName.JWT_HS256, keys_dir=tmp_path / "keys")
    reloader = KeyReloader(load_format(settings, clock=clock), settings)
    local = generate_key_file(settings.keys_dir, FormatName.PASETO_V4_LOCAL)
    secret = FORMATS[FormatName.PASETO_V4_LOCAL].key_material_of(local.path.read_text().strip(), source="x")
    assert secret is not None
    members = {"kty": "oct", "k": b64url_encode(secret)}
    shared = {
        **members,
        "alg": "HS256",
        "kid": thumbprint_of(members),
    }  # a well-named key: only the bytes are wrong
    (settings.keys_dir / "jwt-hs256" / "29990101T000000000000Z-shared.jwk").write_text(json.dumps(shared))
    with caplog.at_level(logging.ERROR, logger="tokenbench"):
        assert reloader.check() is False
    assert "same key bytes" in caplog.text
