"""What is particular to ``paseto-v4-local``: claims travel encrypted, the footer names a ``k4.lid``, and
keys are ``k4.local`` PASERKs of exactly 32 bytes."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest

from formats import FORMATS, Claims, FormatName, KeyConfigError, Kind, TokenFormat, TokenUnknownKey, load
from formats._codec import b64url_decode, b64url_encode
from formats._paseto_common import paserk_id
from formats.paseto_v4_local import PasetoV4Local
from tests.formats.rawtokens import Forger, json_bytes, wire_claims

NAME = FormatName.PASETO_V4_LOCAL
PASERK_DIR = Path(__file__).parents[1] / "vectors" / "paseto" / "PASERK"
WriteKey = Callable[[FormatName, str], Path]
MakeClaims = Callable[..., Claims]


@pytest.fixture
def format_name() -> FormatName:
    return NAME


def test_claims_cannot_be_read_from_the_token_without_the_key(
    fmt: TokenFormat, make_claims: MakeClaims
) -> None:
    claims = make_claims(sub="alice@example.test", role="admin", perms=("users:write",), jti="jti-secret-42")
    token = fmt.issue(claims, kind=Kind.ACCESS)
    header, body_segment, footer_segment = token[: len("v4.local.")], *token[len("v4.local.") :].split(".")
    assert header == "v4.local."
    readable = b64url_decode(body_segment) + b64url_decode(footer_segment) + token.encode()
    for secret in (
        b"alice",
        b"admin",
        b"users:write",
        b"jti-secret-42",
        b"tokenbench.test",
        b'"exp"',
        b'"sub"',
    ):
        assert secret not in readable
    # What is readable: the footer, which only names the key.
    assert b64url_decode(footer_segment) == json_bytes({"kid": fmt.active_kid})


def test_body_is_nonce_ciphertext_and_tag_around_the_exact_payload_length(
    ring_fmt: TokenFormat, make_claims: MakeClaims
) -> None:
    token = ring_fmt.issue(make_claims(), kind=Kind.ACCESS)
    body = b64url_decode(token.split(".")[2])
    assert len(body) == 32 + len(json_bytes(wire_claims(NAME, make_claims()))) + 32


def test_the_same_claims_encrypt_to_different_tokens_under_fresh_nonces(
    fmt: TokenFormat, make_claims: MakeClaims
) -> None:
    tokens = {fmt.issue(make_claims(), kind=Kind.ACCESS) for _ in range(20)}
    nonces = {b64url_decode(t.split(".")[2])[:32] for t in tokens}
    assert len(tokens) == len(nonces) == 20


def test_footer_key_id_is_the_k4_lid_of_the_key(ring_fmt: TokenFormat, ring_key: str) -> None:
    assert ring_key.startswith("k4.local.")
    assert ring_fmt.active_kid == paserk_id("k4.lid.", ring_key)
    assert ring_fmt.active_kid.startswith("k4.lid.")


def test_token_without_footer_names_no_key(
    ring_fmt: TokenFormat, forger: Forger, make_claims: MakeClaims
) -> None:
    payload = json_bytes(wire_claims(NAME, make_claims()))
    with pytest.raises(TokenUnknownKey):
        ring_fmt.verify(forger.token(payload, envelope=b""), kind=Kind.ACCESS)


def test_footer_naming_another_key_type_is_unknown(
    ring_fmt: TokenFormat, forger: Forger, make_claims: MakeClaims, ring_key: str
) -> None:
    payload = json_bytes(wire_claims(NAME, make_claims()))
    for kid in (paserk_id("k4.pid.", ring_key), paserk_id("k4.sid.", ring_key), ring_key, ""):
        with pytest.raises(TokenUnknownKey):
            ring_fmt.verify(forger.token(payload, envelope=json_bytes({"kid": kid})), kind=Kind.ACCESS)


def test_well_known_publishes_nothing_for_a_symmetric_key(fmt: TokenFormat) -> None:
    assert fmt.well_known() == {}


# --- keys ------------------------------------------------------------------------------------------------


def official(name: str) -> str:
    """The PASERK of one official vector, e.g. the must-fail ``k4.local-fail-1``."""
    tests = json.loads((PASERK_DIR / f"{name.split('-', maxsplit=1)[0]}.json").read_text(encoding="utf-8"))[
        "tests"
    ]
    paserk: str = next(t for t in tests if t["name"] == name)["paserk"]
    return paserk


def v4_public_secret() -> str:
    return FORMATS[FormatName.PASETO_V4_PUBLIC].generate_key_text()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (lambda: official("k4.local-fail-2"), "found 'k3.local'"),
        (v4_public_secret, "found 'k4.secret'"),
        (lambda: "k4.public." + b64url_encode(secrets.token_bytes(32)), "found 'k4.public'"),
        (lambda: "k4.local-pw." + b64url_encode(secrets.token_bytes(90)), "found 'k4.local-pw'"),
        (lambda: "k4.local." + b64url_encode(secrets.token_bytes(31)), "31 bytes, it must be exactly 32"),
        (lambda: "k4.local." + b64url_encode(secrets.token_bytes(64)), "64 bytes, it must be exactly 32"),
        (lambda: b64url_encode(secrets.token_bytes(32)), "found "),
        (FORMATS[FormatName.JWT_HS256].generate_key_text, "found "),
    ],
    ids=[
        "k3-local",
        "k4-secret",
        "k4-public",
        "k4-local-pw",
        "31-bytes",
        "64-bytes",
        "bare-base64",
        "hs256-jwk",
    ],
)
def test_key_of_the_wrong_version_type_or_length_is_refused_naming_the_file_and_the_fix(
    write_key_file: WriteKey, tmp_path: Path, text: Callable[[], str], says: str
) -> None:
    path = write_key_file(NAME, text())
    with pytest.raises(KeyConfigError) as refused:
        load(NAME, tmp_path)
    message = str(refused.value)
    assert str(path) in message
    assert says in message
    assert "tokenbench keys generate" in message


def test_official_must_fail_k4_local_fail_1_is_refused_naming_the_file(
    write_key_file: WriteKey, tmp_path: Path
) -> None:
    path = write_key_file(NAME, official("k4.local-fail-1"))
    with pytest.raises(KeyConfigError) as refused:
        load(NAME, tmp_path)
    assert str(path) in str(refused.value)


def test_non_canonical_paserk_is_refused_naming_the_fix(write_key_file: WriteKey, tmp_path: Path) -> None:
    write_key_file(NAME, official("k4.local-fail-1"))
    with pytest.raises(KeyConfigError) as refused:
        load(NAME, tmp_path)
    assert "tokenbench keys generate" in str(refused.value)


def test_generated_key_is_a_32_byte_k4_local() -> None:
    text = PasetoV4Local.generate_key_text()
    assert text.startswith("k4.local.")
    assert len(b64url_decode(text.removeprefix("k4.local."))) == 32
