"""What is particular to ``paseto-v4-public``: readable signed claims, PASERK export (``k4.public`` with its
``k4.pid``), verify-only ``k4.public`` keys, and ``k4.secret`` checks."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from pathlib import Path

import nacl.bindings
import pyseto
import pytest

from formats import (
    FORMATS,
    Claims,
    FormatName,
    KeyConfigError,
    Kind,
    TokenError,
    TokenFormat,
    load,
    paseto_v4_public,
)
from formats._codec import b64url_decode, b64url_encode
from formats._paseto_common import paserk_id
from formats.paseto_v4_public import PasetoV4Public
from tests.conftest import FixedClock
from tests.formats.rawtokens import Forger, json_bytes, wire_claims, with_flipped_tag

NAME = FormatName.PASETO_V4_PUBLIC
PASERK_DIR = Path(__file__).parents[1] / "vectors" / "paseto" / "PASERK"
WriteKey = Callable[[FormatName, str], Path]
MakeClaims = Callable[..., Claims]


@pytest.fixture
def format_name() -> FormatName:
    return NAME


def ring(*texts: str, clock: FixedClock | None = None) -> TokenFormat:
    return FORMATS[NAME].from_key_texts([(f"key-{i}", t) for i, t in enumerate(texts)], clock=clock)


def public_paserk(secret_paserk: str) -> str:
    return "k4.public." + b64url_encode(b64url_decode(secret_paserk.removeprefix("k4.secret."))[32:])


def test_claims_are_signed_not_encrypted_anyone_can_read_them(
    fmt: TokenFormat, make_claims: MakeClaims
) -> None:
    token = fmt.issue(make_claims(), kind=Kind.ACCESS)
    body = b64url_decode(token.split(".")[2])
    message, signature = body[:-64], body[-64:]
    assert message == json_bytes(wire_claims(NAME, make_claims()))
    assert len(signature) == 64
    assert b64url_decode(token.split(".")[3]) == json_bytes({"kid": fmt.active_kid})


def test_paserk_export_lists_active_then_retiring_public_keys_with_their_pid(
    clock: FixedClock, make_claims: MakeClaims
) -> None:
    old, new = PasetoV4Public.generate_key_text(), PasetoV4Public.generate_key_text()
    fmt = ring(old, new, clock=clock)
    document = fmt.well_known()["paserk.json"]
    assert document == {
        "keys": [
            {"kid": paserk_id("k4.pid.", public_paserk(new)), "paserk": public_paserk(new)},
            {"kid": paserk_id("k4.pid.", public_paserk(old)), "paserk": public_paserk(old)},
        ]
    }
    assert [k["kid"] for k in document["keys"]] == list(fmt.kids)
    assert "k4.secret" not in json.dumps(document)


def test_exported_public_keys_verify_our_tokens_with_pyseto(
    clock: FixedClock, make_claims: MakeClaims
) -> None:
    fmt = ring(PasetoV4Public.generate_key_text(), clock=clock)
    token = fmt.issue(make_claims(), kind=Kind.ACCESS)
    (published,) = fmt.well_known()["paserk.json"]["keys"]
    key = pyseto.Key.from_paserk(published["paserk"])
    decoded = pyseto.decode(key, token, implicit_assertion=b"tokenbench.access")
    assert json.loads(decoded.payload)["jti"] == make_claims().jti
    assert json.loads(decoded.footer) == {"kid": published["kid"]}


def test_public_only_retiring_key_still_verifies_its_tokens(
    clock: FixedClock, make_claims: MakeClaims
) -> None:
    old, new = PasetoV4Public.generate_key_text(), PasetoV4Public.generate_key_text()
    old_token = ring(old, clock=clock).issue(make_claims(), kind=Kind.ACCESS)
    rotated = ring(public_paserk(old), new, clock=clock)
    assert rotated.verify(old_token, kind=Kind.ACCESS) == make_claims()
    assert rotated.kids[1] == paserk_id("k4.pid.", public_paserk(old))


def test_key_id_of_a_secret_key_is_the_pid_of_its_public_key() -> None:
    text = PasetoV4Public.generate_key_text()
    assert PasetoV4Public.key_id_of(text, source="s") == PasetoV4Public.key_id_of(
        public_paserk(text), source="p"
    )


def test_public_only_active_key_is_refused_because_it_cannot_sign(
    write_key_file: WriteKey, tmp_path: Path
) -> None:
    write_key_file(NAME, PasetoV4Public.generate_key_text())
    path = write_key_file(NAME, public_paserk(PasetoV4Public.generate_key_text()))
    with pytest.raises(KeyConfigError, match=r"k4\.public key and cannot sign") as refused:
        load(NAME, tmp_path)
    assert str(path) in str(refused.value)
    assert "tokenbench keys rotate --format paseto-v4-public" in str(refused.value)


# --- keys ------------------------------------------------------------------------------------------------


def official_fail(name: str, member: str) -> bytes:
    path = PASERK_DIR / f"{name.split('-', maxsplit=1)[0]}.json"
    tests = json.loads(path.read_text(encoding="utf-8"))["tests"]
    return bytes.fromhex(next(t for t in tests if t["name"] == name)[member])


def mismatched_halves() -> str:
    seed = secrets.token_bytes(32)
    other_public, _ = nacl.bindings.crypto_sign_keypair()
    return "k4.secret." + b64url_encode(seed + other_public)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (lambda: "k4.secret." + b64url_encode(official_fail("k4.secret-fail-2", "key")), "48 bytes"),
        (lambda: "k4.secret." + b64url_encode(official_fail("k4.secret-fail-1", "key")), "31 bytes"),
        (lambda: "k4.public." + b64url_encode(official_fail("k4.public-fail-1", "key")), "49 bytes"),
        (mismatched_halves, "public half does not match its seed"),
        (FORMATS[FormatName.PASETO_V4_LOCAL].generate_key_text, "found 'k4.local'"),
        (lambda: "k3.secret." + b64url_encode(secrets.token_bytes(48)), "found 'k3.secret'"),
        (lambda: "k4.secret-wrap.pie." + b64url_encode(secrets.token_bytes(128)), "found 'k4.secret-wrap'"),
        (FORMATS[FormatName.JWT_ES256].generate_key_text, "found "),
        (FORMATS[FormatName.JWT_EDDSA].generate_key_text, "found "),  # the same Ed25519 key type, as a JWK
    ],
    ids=[
        "k4.secret-fail-2",
        "k4.secret-fail-1",
        "k4.public-fail-1",
        "halves-mismatch",
        "k4-local",
        "k3-secret",
        "k4-secret-wrap",
        "es256-jwk",
        "eddsa-jwk",
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


def test_generated_key_is_a_consistent_64_byte_k4_secret() -> None:
    text = PasetoV4Public.generate_key_text()
    secret = b64url_decode(text.removeprefix("k4.secret."))
    assert len(secret) == 64
    assert nacl.bindings.crypto_sign_seed_keypair(secret[:32])[0] == secret[32:]


@pytest.mark.parametrize(
    ("spelled", "micro"),
    [("2026-11-23T12:00:00.707747Z", 707_747), ("2026-11-23T12:00:00.5+00:00", 500_000)],
)
def test_fractional_second_times_of_other_issuers_still_verify(
    ring_fmt: TokenFormat, forger: Forger, make_claims: MakeClaims, spelled: str, micro: int
) -> None:
    # tokenbench issues whole seconds; RFC 3339 allows fractions and other PASETO issuers write them.
    token = forger.claims_token(make_claims(), iat=spelled, nbf=spelled)
    at = make_claims().iat.replace(microsecond=micro)
    assert ring_fmt.verify(token, kind=Kind.ACCESS) == make_claims(iat=at, nbf=at)


def test_a_rejected_token_costs_one_signature_check_whatever_kind_its_payload_claims(
    fmt: TokenFormat, make_claims: MakeClaims, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A forgery whose payload claims the other kind used to be checked under both implicit assertions:
    # two Ed25519 verifications per forged token, where a valid one costs one (issue 12).
    calls: list[bytes] = []
    real = paseto_v4_public.ed25519_verify

    def counting(public: bytes, message: bytes, signature: bytes) -> bool:
        calls.append(message)
        return real(public, message, signature)

    monkeypatch.setattr(paseto_v4_public, "ed25519_verify", counting)
    refresh = fmt.issue(make_claims(fam="fam-1", ver=0), kind=Kind.REFRESH)
    for token, presented, code in (
        (with_flipped_tag(refresh), Kind.ACCESS, "token_bad_signature"),
        (with_flipped_tag(refresh), Kind.REFRESH, "token_bad_signature"),
        (refresh, Kind.ACCESS, "token_wrong_kind"),
    ):
        calls.clear()
        with pytest.raises(TokenError) as caught:
            fmt.verify(token, kind=presented)
        assert (caught.value.code, len(calls)) == (code, 1)


def test_a_payload_that_claims_one_kind_while_the_signature_binds_the_other_is_a_bad_signature(
    fmt: TokenFormat, make_claims: MakeClaims
) -> None:
    # tokenbench never issues one; checking it under both assertions would let every forgery cost two
    # signature checks, so it is refused as a forgery is.
    token = fmt.issue(make_claims(), kind=Kind.REFRESH)
    for presented in Kind:
        with pytest.raises(TokenError) as caught:
            fmt.verify(token, kind=presented)
        assert caught.value.code == "token_bad_signature"
