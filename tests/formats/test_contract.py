"""The contract every format keeps, checked identically for every format; nothing here branches on the format.

What legitimately differs between formats (headers, JWKS, PASERK, encrypted claims) lives in the
per-format files. Raw tokens with payloads ``issue`` never writes come from :mod:`tests.formats.rawtokens`,
signed with the ring's own key, so every refusal below is the parser's or the claim check's doing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from formats import (
    ClaimPolicy,
    Claims,
    FormatName,
    KeyConfigError,
    Kind,
    TokenError,
    TokenFormat,
    ephemeral,
    load,
)
from formats.inspect import explain
from formats.keys import generate_key_file
from tests.conftest import FixedClock
from tests.formats.rawtokens import (
    Forger,
    json_bytes,
    padded,
    std_alphabet,
    trailing_bits,
    wire_claims,
    with_flipped_tag,
)

MakeClaims = Callable[..., Claims]


def refusal(fmt: TokenFormat, token: str, *, kind: Kind = Kind.ACCESS) -> str:
    """The code ``fmt`` refuses ``token`` with; fails the test if it verifies or raises anything else."""
    with pytest.raises(TokenError) as caught:
        fmt.verify(token, kind=kind)
    return caught.value.code


def refresh_claims(make_claims: MakeClaims) -> Claims:
    return make_claims(jti="jti-refresh-1", fam="fam-1", ver=0)


# --- round trip and kind binding -------------------------------------------------------------------------


def test_issued_access_token_verifies_to_the_same_claims(fmt: TokenFormat, make_claims: MakeClaims) -> None:
    claims = make_claims()
    assert fmt.verify(fmt.issue(claims, kind=Kind.ACCESS), kind=Kind.ACCESS) == claims


def test_issued_refresh_token_verifies_to_the_same_claims(fmt: TokenFormat, make_claims: MakeClaims) -> None:
    claims = refresh_claims(make_claims)
    assert fmt.verify(fmt.issue(claims, kind=Kind.REFRESH), kind=Kind.REFRESH) == claims


def test_claims_without_optional_members_round_trip(fmt: TokenFormat, make_claims: MakeClaims) -> None:
    bare = ephemeral(fmt.name, clock=lambda: make_claims().iat)
    claims = make_claims(nbf=None, iss=None, aud=None, perms=())
    assert bare.verify(bare.issue(claims, kind=Kind.ACCESS), kind=Kind.ACCESS) == claims


def test_refresh_token_presented_as_access_token_is_wrong_kind(
    fmt: TokenFormat, make_claims: MakeClaims
) -> None:
    token = fmt.issue(refresh_claims(make_claims), kind=Kind.REFRESH)
    assert refusal(fmt, token, kind=Kind.ACCESS) == "token_wrong_kind"


def test_access_token_presented_as_refresh_token_is_wrong_kind(
    fmt: TokenFormat, make_claims: MakeClaims
) -> None:
    token = fmt.issue(make_claims(), kind=Kind.ACCESS)
    assert refusal(fmt, token, kind=Kind.REFRESH) == "token_wrong_kind"


def test_access_claims_bound_as_refresh_token_are_refused_by_both_kinds(
    fmt: TokenFormat, make_claims: MakeClaims
) -> None:
    # The binding (typ / implicit assertion) says refresh, the claims say access: neither kind accepts it.
    # tokenbench never issues such a token. JWT and v4.local name it the wrong kind; v4.public, which
    # checks one signature per token under the kind its payload claims, cannot tell it from a forgery
    # (test_paseto_v4_public.py).
    token = fmt.issue(make_claims(), kind=Kind.REFRESH)
    assert refusal(fmt, token, kind=Kind.REFRESH) in {"token_wrong_kind", "token_bad_signature"}
    assert refusal(fmt, token, kind=Kind.ACCESS) in {"token_wrong_kind", "token_bad_signature"}


@pytest.mark.parametrize("presented", list(Kind), ids=[k.value for k in Kind])
@pytest.mark.parametrize("signed", list(Kind), ids=[f"signed-{k.value}" for k in Kind])
def test_a_forged_token_is_a_bad_signature_whatever_kind_it_claims_and_is_presented_as(
    fmt: TokenFormat, make_claims: MakeClaims, signed: Kind, presented: Kind
) -> None:
    claims = make_claims() if signed is Kind.ACCESS else refresh_claims(make_claims)
    token = with_flipped_tag(fmt.issue(claims, kind=signed))
    assert refusal(fmt, token, kind=presented) == "token_bad_signature"


@pytest.mark.parametrize("missing", ["fam", "ver"])
def test_refresh_claims_with_only_one_of_fam_and_ver_are_invalid(
    ring_fmt: TokenFormat, forger: Forger, make_claims: MakeClaims, missing: str
) -> None:
    token = forger.claims_token(refresh_claims(make_claims), kind=Kind.REFRESH, **{missing: ...})
    assert refusal(ring_fmt, token, kind=Kind.REFRESH) == "token_claims_invalid"


# --- time ------------------------------------------------------------------------------------------------


def test_token_is_valid_at_exp_plus_leeway_and_expired_one_second_later(
    fmt: TokenFormat, make_claims: MakeClaims, clock: FixedClock, policy: ClaimPolicy
) -> None:
    claims = make_claims()
    token = fmt.issue(claims, kind=Kind.ACCESS)
    clock.now = claims.exp + timedelta(seconds=policy.leeway)
    assert fmt.verify(token, kind=Kind.ACCESS) == claims
    clock.advance(1)
    assert refusal(fmt, token) == "token_expired"


def test_token_with_nbf_beyond_the_leeway_is_not_yet_valid(
    fmt: TokenFormat, make_claims: MakeClaims, policy: ClaimPolicy
) -> None:
    now = make_claims().iat
    early = fmt.issue(make_claims(nbf=now + timedelta(seconds=policy.leeway + 1)), kind=Kind.ACCESS)
    assert refusal(fmt, early) == "token_not_yet_valid"
    edge = make_claims(nbf=now + timedelta(seconds=policy.leeway))
    assert fmt.verify(fmt.issue(edge, kind=Kind.ACCESS), kind=Kind.ACCESS) == edge


def test_token_issued_in_the_future_beyond_the_leeway_is_not_yet_valid(
    fmt: TokenFormat, make_claims: MakeClaims, policy: ClaimPolicy
) -> None:
    now = make_claims().iat
    future = make_claims(iat=now + timedelta(seconds=policy.leeway + 1), nbf=None)
    assert refusal(fmt, fmt.issue(future, kind=Kind.ACCESS)) == "token_not_yet_valid"
    edge = make_claims(iat=now + timedelta(seconds=policy.leeway), nbf=None)
    assert fmt.verify(fmt.issue(edge, kind=Kind.ACCESS), kind=Kind.ACCESS) == edge


def test_issued_times_are_whole_seconds_rounded_down_in_every_format(
    fmt: TokenFormat, make_claims: MakeClaims, clock: FixedClock
) -> None:
    # JWT NumericDate is an integer; PASETO is written at the same precision, so the same claims give
    # the same token size whatever the clock's microseconds were (issue 12: ~20 bytes that were not the
    # format's).
    fraction = timedelta(microseconds=707_747)
    claims = make_claims(
        iat=clock.now + fraction, nbf=clock.now + fraction, exp=clock.now + timedelta(minutes=15) + fraction
    )
    verified = fmt.verify(fmt.issue(claims, kind=Kind.ACCESS), kind=Kind.ACCESS)
    assert verified == make_claims()
    readable = explain(fmt.issue(claims, kind=Kind.ACCESS)).times  # empty where the claims are encrypted
    assert set(readable.values()) <= {"2026-11-23T12:00:00Z", "2026-11-23T12:15:00Z"}


def test_the_same_claims_give_the_same_token_size_whatever_the_microseconds(
    fmt: TokenFormat, make_claims: MakeClaims, clock: FixedClock
) -> None:
    sizes = set()
    for micro in (0, 1, 500_000, 999_999):
        at = clock.now + timedelta(microseconds=micro)
        claims = make_claims(iat=at, nbf=at, exp=at + timedelta(minutes=15))
        sizes.add(len(fmt.issue(claims, kind=Kind.ACCESS)))
    assert len(sizes) == 1


def test_token_whose_exp_is_not_after_iat_is_claims_invalid(
    fmt: TokenFormat, make_claims: MakeClaims
) -> None:
    now = make_claims().iat
    assert refusal(fmt, fmt.issue(make_claims(exp=now), kind=Kind.ACCESS)) == "token_claims_invalid"


# --- issuer and audience ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"iss": "https://evil.test"},
        {"iss": None},
        {"iss": "https://tokenbench.test/"},
        {"aud": "other-api"},
        {"aud": None},
        {"aud": "TOKENBENCH-API"},
    ],
    ids=["iss-other", "iss-missing", "iss-trailing-slash", "aud-other", "aud-missing", "aud-case"],
)
def test_issuer_or_audience_mismatch_is_claims_invalid(
    fmt: TokenFormat, make_claims: MakeClaims, overrides: dict[str, object]
) -> None:
    token = fmt.issue(make_claims(**overrides), kind=Kind.ACCESS)
    assert refusal(fmt, token) == "token_claims_invalid"


# --- claims a format never issues but an attacker (or a buggy issuer) can send -----------------------------


def test_token_without_exp_is_claims_invalid(
    ring_fmt: TokenFormat, forger: Forger, make_claims: MakeClaims
) -> None:
    assert refusal(ring_fmt, forger.claims_token(make_claims(), exp=...)) == "token_claims_invalid"


@pytest.mark.parametrize("member", ["sub", "role", "iat", "jti"])
def test_token_without_a_required_claim_is_claims_invalid(
    ring_fmt: TokenFormat, forger: Forger, make_claims: MakeClaims, member: str
) -> None:
    assert refusal(ring_fmt, forger.claims_token(make_claims(), **{member: ...})) == "token_claims_invalid"


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("sub", 123),
        ("sub", ""),
        ("sub", None),
        ("role", ["admin"]),
        ("perms", "admin"),
        ("perms", [1, 2]),
        ("perms", {"admin": True}),
        ("exp", "soon"),
        ("exp", True),
        ("exp", None),
        ("exp", [1]),
        ("exp", 1.5e9),
        ("iat", "2026-13-01T00:00:00Z"),
        ("nbf", {}),
        ("jti", 7),
        ("iss", 1),
        ("aud", ["tokenbench-api"]),
        ("ver", "0"),
        ("fam", 1),
    ],
    ids=lambda v: repr(v)[:24],
)
def test_claim_of_the_wrong_type_is_claims_invalid(
    ring_fmt: TokenFormat, forger: Forger, make_claims: MakeClaims, member: str, value: object
) -> None:
    assert refusal(ring_fmt, forger.claims_token(make_claims(), **{member: value})) == "token_claims_invalid"


@pytest.mark.parametrize(
    "spoil",
    [
        lambda p: b"[" + p + b"]",
        lambda p: json_bytes(p.decode()),
        lambda p: b"null",
        lambda p: b"42",
        lambda p: p[:-1],
        lambda p: b"",
        lambda p: b"\xef\xbb\xbf" + p,
        lambda p: p.replace(b'"user"', b'"us\xffer"'),
        lambda p: p + b" {}",
        lambda p: p.decode().encode("utf-16"),
    ],
    ids=[
        "array",
        "string",
        "null",
        "number",
        "truncated",
        "empty",
        "utf8-bom",
        "invalid-utf8-in-string",
        "two-documents",
        "utf16",
    ],
)
def test_payload_that_is_not_one_utf8_json_object_is_malformed(
    ring_fmt: TokenFormat, forger: Forger, make_claims: MakeClaims, spoil: Callable[[bytes], bytes]
) -> None:
    payload = json_bytes(wire_claims(forger.name, make_claims()))
    assert ring_fmt.verify(forger.token(payload), kind=Kind.ACCESS) == make_claims()
    assert refusal(ring_fmt, forger.token(spoil(payload))) == "token_malformed"


def test_header_or_footer_that_is_not_one_utf8_json_object_is_malformed(
    ring_fmt: TokenFormat, forger: Forger, make_claims: MakeClaims
) -> None:
    payload = json_bytes(wire_claims(forger.name, make_claims()))
    envelope = forger.envelope(Kind.ACCESS)
    for spoiled in (
        envelope.replace(b'"kid"', b'"k\xffd"'),
        envelope[:-1],
        b"[" + envelope + b"]",
        b"null",
        envelope + b"{}",
    ):
        assert refusal(ring_fmt, forger.token(payload, envelope=spoiled)) == "token_malformed"


def test_duplicate_claim_in_the_payload_is_rejected(
    ring_fmt: TokenFormat, forger: Forger, make_claims: MakeClaims
) -> None:
    # A last-wins parser would read role "admin"; an issuer-side filter reading the first would see "user".
    payload = json_bytes(wire_claims(forger.name, make_claims()))
    duplicated = payload[:-1] + b',"role":"admin"}'
    assert ring_fmt.verify(forger.token(payload), kind=Kind.ACCESS).role == "user"
    assert refusal(ring_fmt, forger.token(duplicated)) == "token_malformed"


def test_duplicate_member_in_the_header_or_footer_is_rejected(
    ring_fmt: TokenFormat, forger: Forger, make_claims: MakeClaims
) -> None:
    payload = json_bytes(wire_claims(forger.name, make_claims()))
    envelope = forger.envelope(Kind.ACCESS)
    duplicated = envelope[:-1] + b',"kid":' + json_bytes(forger.kid) + b"}"
    assert ring_fmt.verify(forger.token(payload, envelope=envelope), kind=Kind.ACCESS) == make_claims()
    assert refusal(ring_fmt, forger.token(payload, envelope=duplicated)) == "token_malformed"


def test_extra_member_in_the_header_or_footer_is_malformed(
    ring_fmt: TokenFormat, forger: Forger, make_claims: MakeClaims
) -> None:
    payload = json_bytes(wire_claims(forger.name, make_claims()))
    extended = forger.envelope(Kind.ACCESS)[:-1] + b',"jku":"https://evil.test/keys"}'
    assert refusal(ring_fmt, forger.token(payload, envelope=extended)) == "token_malformed"


# --- keys ------------------------------------------------------------------------------------------------


def test_token_signed_by_a_key_outside_the_ring_is_unknown_key(
    fmt: TokenFormat, format_name: FormatName, make_claims: MakeClaims
) -> None:
    stranger = ephemeral(format_name)
    assert stranger.active_kid not in fmt.kids
    assert refusal(fmt, stranger.issue(make_claims(), kind=Kind.ACCESS)) == "token_unknown_key"


def test_rotation_keeps_old_tokens_valid_and_issues_with_the_new_key(
    format_name: FormatName, tmp_path: Path, policy: ClaimPolicy, clock: FixedClock, make_claims: MakeClaims
) -> None:
    first = generate_key_file(tmp_path, format_name)
    before = load(format_name, tmp_path, policy=policy, clock=clock)
    old_token = before.issue(make_claims(), kind=Kind.ACCESS)

    second = generate_key_file(tmp_path, format_name)
    after = load(format_name, tmp_path, policy=policy, clock=clock)

    assert (after.active_kid, after.kids) == (second.kid, (second.kid, first.kid))
    assert after.verify(old_token, kind=Kind.ACCESS) == make_claims()
    new_token = after.issue(make_claims(jti="jti-0002"), kind=Kind.ACCESS)
    assert (explain(old_token).key_id, explain(new_token).key_id) == (first.kid, second.kid)
    assert refusal(before, new_token) == "token_unknown_key"  # signed by the new key, unknown to the old ring

    first.path.unlink()  # the retiring key is removed: its tokens stop verifying
    pruned = load(format_name, tmp_path, policy=policy, clock=clock)
    assert pruned.kids == (second.kid,)
    assert refusal(pruned, old_token) == "token_unknown_key"
    assert pruned.verify(new_token, kind=Kind.ACCESS).jti == "jti-0002"


@pytest.mark.parametrize("content", ["", "\n", "  \n\t\n"], ids=["empty", "newline", "whitespace"])
def test_empty_key_file_is_refused_naming_the_file_and_the_fix(
    format_name: FormatName, tmp_path: Path, write_key_file: Callable[[FormatName, str], Path], content: str
) -> None:
    path = write_key_file(format_name, content)
    with pytest.raises(KeyConfigError, match="empty") as refused:
        load(format_name, tmp_path)
    assert str(path) in str(refused.value)
    assert "tokenbench keys generate" in str(refused.value)


# --- spelling --------------------------------------------------------------------------------------------

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."


def test_changing_any_single_character_never_verifies(fmt: TokenFormat, make_claims: MakeClaims) -> None:
    token = fmt.issue(make_claims(), kind=Kind.ACCESS)
    for i, char in enumerate(token):
        for replacement in (_ALPHABET[(_ALPHABET.index(char) + 1) % 65], "A" if char != "A" else "B"):
            tampered = token[:i] + replacement + token[i + 1 :]
            with pytest.raises(TokenError):
                fmt.verify(tampered, kind=Kind.ACCESS)


def test_oversized_token_is_malformed_even_when_correctly_signed(
    fmt: TokenFormat, make_claims: MakeClaims
) -> None:
    claims = make_claims(perms=tuple(f"{i:03d}:" + "p" * 250 for i in range(40)))
    token = fmt.issue(claims, kind=Kind.ACCESS)
    assert len(token) > 8192
    assert refusal(fmt, token) == "token_malformed"
    assert refusal(fmt, "A" * 100_000) == "token_malformed"


@pytest.mark.parametrize("spelling", [padded, trailing_bits, std_alphabet], ids=lambda f: f.__name__)
def test_non_canonical_base64_of_a_correctly_signed_token_is_malformed(
    ring_fmt: TokenFormat,
    forger: Forger,
    make_claims: MakeClaims,
    spelling: Callable[[bytes], str],
) -> None:
    # "~~~" is "fn5-" in base64url and "fn5+" in base64: the payload has a character the alphabets spell
    # differently, and fit() pads the JSON so the segment's last character has unused bits.
    payload = forger.fit(json_bytes(wire_claims(forger.name, make_claims(jti="jti-~~~~~~"))))
    for n in range(64):
        nonce = bytes([n]) * 32  # fixed, so the only difference between the two tokens is the spelling
        accepted = forger.token(payload, nonce=nonce)
        respelled = forger.token(payload, nonce=nonce, spell=spelling)
        if respelled != accepted:
            break
    assert ring_fmt.verify(accepted, kind=Kind.ACCESS).jti == "jti-~~~~~~"
    assert respelled != accepted
    assert refusal(ring_fmt, respelled) == "token_malformed"


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        " ",
        ".",
        "..",
        "...",
        "a.b.c",
        "v4.local.",
        "v4.local..",
        "v4.public.",
        "v4.public..",
        "\x00",
        "é" * 10,
        "Bearer x.y.z",
    ],
)
def test_garbage_is_malformed(fmt: TokenFormat, garbage: str) -> None:
    assert refusal(fmt, garbage) == "token_malformed"


def test_token_of_another_format_never_verifies(fmt: TokenFormat, make_claims: MakeClaims) -> None:
    for other in FormatName:
        if other != fmt.name:
            token = ephemeral(other).issue(make_claims(), kind=Kind.ACCESS)
            assert refusal(fmt, token) == "token_malformed"


def test_whitespace_around_a_valid_token_is_malformed(fmt: TokenFormat, make_claims: MakeClaims) -> None:
    token = fmt.issue(make_claims(), kind=Kind.ACCESS)
    for wrapped in (f" {token}", f"{token}\n", f"{token}.", f".{token}"):
        with pytest.raises(TokenError):
            fmt.verify(wrapped, kind=Kind.ACCESS)
