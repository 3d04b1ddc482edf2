"""``formats.inspect.explain``: what a token carries, read without a key, and never a verdict on validity."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from formats import Claims, FormatName, Kind, TokenError, TokenFormat, ephemeral
from formats.inspect import NOT_VERIFIED, InspectError, TokenReport, explain
from tests.conftest import FixedClock
from tests.formats.rawtokens import ALG, JWT_FORMATS, Forger, json_bytes, wire_claims

MakeClaims = Callable[..., Claims]
VECTORS = Path(__file__).parents[1] / "vectors"
V4: list[dict[str, Any]] = json.loads((VECTORS / "paseto" / "v4.json").read_text(encoding="utf-8"))["tests"]
RFC7515: list[dict[str, Any]] = json.loads(
    (VECTORS / "jose" / "rfc7515" / "appendix_a.json").read_text(encoding="utf-8")
)["tests"]


def vector(name: str) -> dict[str, Any]:
    return next(v for v in V4 if v["name"] == name)


def test_report_names_the_format_key_id_and_kind_of_an_issued_token(
    fmt: TokenFormat, format_name: FormatName, make_claims: MakeClaims
) -> None:
    token = fmt.issue(make_claims(), kind=Kind.ACCESS)
    report = explain(token)
    assert (report.format, report.key_id, report.total_bytes) == (format_name, fmt.active_kid, len(token))
    assert report.notes == (NOT_VERIFIED,)


def test_top_level_parts_add_up_to_the_token(fmt: TokenFormat, make_claims: MakeClaims) -> None:
    token = fmt.issue(make_claims(), kind=Kind.ACCESS)
    report = explain(token)
    top = [p for p in report.parts if p.wire_bytes is not None]
    dots = token.count(".") - (2 if token.startswith("v4.") else 0)  # the PASETO header part holds two
    assert sum(p.wire_bytes or 0 for p in top) + dots == report.total_bytes == len(token)


def test_sizes_inside_the_body_match_the_claims(
    fmt: TokenFormat, format_name: FormatName, make_claims: MakeClaims
) -> None:
    report = explain(fmt.issue(make_claims(), kind=Kind.ACCESS))
    sizes = {p.name: p.decoded_bytes for p in report.parts}
    payload = len(json_bytes(wire_claims(format_name, make_claims())))
    expected = {
        FormatName.JWT_HS256: {"signature": 32},
        FormatName.JWT_ES256: {"signature": 64},
        FormatName.JWT_EDDSA: {"signature": 64},
        FormatName.PASETO_V4_LOCAL: {"body.nonce": 32, "body.ciphertext": payload, "body.tag": 32},
        FormatName.PASETO_V4_PUBLIC: {"body.message": payload, "body.signature": 64},
    }[format_name]
    assert {k: sizes[k] for k in expected} == expected


def test_claims_are_shown_when_readable_and_encrypted_otherwise(
    fmt: TokenFormat, format_name: FormatName, make_claims: MakeClaims
) -> None:
    report = explain(fmt.issue(make_claims(), kind=Kind.ACCESS))
    if format_name is FormatName.PASETO_V4_LOCAL:
        assert (report.claims, report.times) == ("encrypted", {})
    else:
        assert report.claims == wire_claims(format_name, make_claims())
        assert report.times["exp"] == "2026-11-23T12:15:00Z"


def test_jwt_kind_comes_from_typ_and_paseto_kind_is_not_readable(
    fmt: TokenFormat, format_name: FormatName, make_claims: MakeClaims
) -> None:
    report = explain(fmt.issue(make_claims(fam="f", ver=0), kind=Kind.REFRESH))
    if format_name in JWT_FORMATS:
        assert report.kind is Kind.REFRESH
        assert report.header == {
            "alg": ALG[format_name],
            "kid": fmt.active_kid,
            "typ": "rt+jwt",
        }
    else:
        assert report.kind is None  # bound by the implicit assertion, which is never transmitted
        assert report.footer == {"kid": fmt.active_kid}


def test_explain_does_not_verify_expired_foreign_or_tampered_tokens_still_explain(
    fmt: TokenFormat, format_name: FormatName, make_claims: MakeClaims, clock: FixedClock
) -> None:
    stranger = ephemeral(format_name, clock=clock).issue(make_claims(), kind=Kind.ACCESS)
    expired = fmt.issue(
        make_claims(exp=clock.now - timedelta(days=1), iat=clock.now - timedelta(days=2)), kind=Kind.ACCESS
    )
    signature_flipped = stranger[:-2] + ("A" if stranger[-2] != "A" else "B") + stranger[-1]
    for token in (stranger, expired, signature_flipped):
        with pytest.raises(TokenError):
            fmt.verify(token, kind=Kind.ACCESS)
        report = explain(token)
        assert report.format is format_name
        assert NOT_VERIFIED in report.notes


def test_report_encodes_as_json_for_the_cli(fmt: TokenFormat, make_claims: MakeClaims) -> None:
    report = explain(fmt.issue(make_claims(), kind=Kind.ACCESS))
    decoded = msgspec.json.decode(msgspec.json.encode(report), type=TokenReport)
    assert decoded == report


# --- shapes tokenbench would refuse, still explained ----------------------------------------------------


def test_rfc7515_token_explains_with_a_note_that_its_header_is_not_ours() -> None:
    report = explain(RFC7515[0]["compact"])
    assert (report.format, report.kind, report.key_id) == (FormatName.JWT_HS256, None, None)
    assert report.header == {"typ": "JWT", "alg": "HS256"}
    assert isinstance(report.claims, dict)
    assert report.claims["iss"] == "joe"
    assert report.times == {"exp": "2011-03-22T18:43:00Z"}
    assert any("alg, kid and typ" in note for note in report.notes)


@pytest.mark.parametrize("name", [v["name"] for v in V4 if v["name"].startswith(("4-E-", "4-S-"))])
def test_official_v4_vector_explains(name: str) -> None:
    v = vector(name)
    report = explain(v["token"])
    local = name.startswith("4-E-")
    assert report.format is (FormatName.PASETO_V4_LOCAL if local else FormatName.PASETO_V4_PUBLIC)
    assert report.claims == ("encrypted" if local else json.loads(v["payload"]))
    if not v["footer"]:
        assert report.footer is None
        assert any("no footer" in note for note in report.notes)
    elif v["footer"].startswith("{"):
        assert report.footer == json.loads(v["footer"])
        assert report.key_id == json.loads(v["footer"])["kid"]
    else:
        assert report.footer == v["footer"]  # 4-E-9: a footer that is not JSON is shown as text


@pytest.mark.parametrize("format_name", [FormatName.PASETO_V4_LOCAL, FormatName.PASETO_V4_PUBLIC])
def test_footer_less_paseto_token_notes_it_names_no_key(forger: Forger, make_claims: MakeClaims) -> None:
    report = explain(forger.token(json_bytes(wire_claims(forger.name, make_claims())), envelope=b""))
    assert report.key_id is None
    assert any("token_unknown_key" in note for note in report.notes)


def test_oversized_token_is_explained_with_a_note(fmt: TokenFormat, make_claims: MakeClaims) -> None:
    token = fmt.issue(make_claims(perms=tuple("p" * 200 + str(i) for i in range(50))), kind=Kind.ACCESS)
    assert any("over 8192" in note for note in explain(token).notes)


# --- not tokens -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("héllo.wörld.x", "ASCII"),
        ("hello", "1 dot-separated segments"),
        ("a.b", "2 dot-separated segments"),
        ("a.b.c.d.e", "JWE"),
        ("!!!.e30.AA", "JWS header segment"),
        ("e30.e30.AA", "alg None"),
        ("eyJhbGciOiJub25lIn0.e30.", "alg 'none'"),
        ("eyJhbGciOiJSUzI1NiJ9.e30.AA", "alg 'RS256'"),
        ("eyJhbGciOiJIUzI1NiJ9.W10.AA", "JWS payload: not a JSON object"),
        ("eyJhbGciOiJIUzI1NiJ9.e30.AA=", "JWS signature segment"),
        (vector("4-F-3")["token"], "'v3.local'"),
        ("v2.public.e30", "'v2.public'"),
        ("v4.secret.AAAA", "'v4.secret'"),
        (vector("4-F-4")["token"], "unused bits"),
        (vector("4-F-5")["token"], "v4.local body"),
        ("v4.local.AAAA", "shorter than its nonce and tag"),
        ("v4.public." + "A" * 86, "not longer than its signature"),
        ("v4.public.a.b.c", "at most four segments"),
    ],
)
def test_text_that_is_no_tokenbench_token_raises_inspect_error_saying_why(text: str, says: str) -> None:
    with pytest.raises(InspectError) as refused:
        explain(text)
    assert says in str(refused.value)
    assert isinstance(refused.value, ValueError)


def test_duplicate_member_is_reported_not_silently_resolved() -> None:
    header = b'{"alg":"HS256","alg":"none","kid":"k","typ":"at+jwt"}'
    token = ".".join(json_part for json_part in (_b64(header), _b64(b"{}"), "AA"))
    with pytest.raises(InspectError, match="duplicate"):
        explain(token)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(max_size=300), st.binary(max_size=300).map(lambda b: b.decode("latin-1"))))
def test_any_text_either_explains_or_raises_inspect_error(text: str) -> None:
    try:
        report = explain(text)
    except InspectError:
        return
    assert NOT_VERIFIED in report.notes
