"""What pyjwt and pyseto alone accept, and our formats refuse (the evidence behind ``docs/formats.md``).

Each test builds one token or key with the same key material, shows the bare library accepting it, and
shows the tokenbench format refusing it. If a library upgrade makes one of these stricter, the first
assertion fails and the page's list needs updating.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pyseto
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from formats import Claims, FormatName, KeyConfigError, Kind, TokenError, TokenFormat, forge
from formats.paseto_v4_local import PasetoV4Local
from tests.formats.rawtokens import ALG, JWT_FORMATS, Forger, json_bytes, wire_claims

MakeClaims = Callable[..., Claims]
JWT = sorted(JWT_FORMATS)
PASETO = [FormatName.PASETO_V4_LOCAL, FormatName.PASETO_V4_PUBLIC]
NO_TIME_CHECKS = {"verify_exp": False, "verify_iat": False, "verify_nbf": False, "verify_aud": False}


def pyjwt_key(forger: Forger, ring_key: str) -> object:
    if forger.name is FormatName.JWT_HS256:
        return forge.jwk_secret(ring_key)
    if forger.name is FormatName.JWT_EDDSA:
        return Ed25519PrivateKey.from_private_bytes(forge.jwk_okp_seed(ring_key)).public_key()
    return forge.jwk_ec_private_key(ring_key).public_key()


def pyseto_key(forger: Forger, ring_key: str) -> object:
    if forger.name is FormatName.PASETO_V4_LOCAL:
        return pyseto.Key.from_paserk(ring_key)
    return pyseto.Key.from_paserk("k4.public." + forge.b64u(forge.paserk_bytes(ring_key)[32:]))


def pyjwt_decode(forger: Forger, ring_key: str, token: str, **options: bool) -> dict[str, object]:
    """pyjwt.decode with the ring's key, the format's one algorithm and the given options."""
    decoded: dict[str, object] = jwt.decode(
        token,
        pyjwt_key(forger, ring_key),
        algorithms=[ALG[forger.name]],
        options={**NO_TIME_CHECKS, **options},
    )
    return decoded


def pyseto_decode(forger: Forger, ring_key: str, token: str, *, claims: bool = True) -> Any:
    """pyseto.decode with the ring's key and the access implicit assertion; ``claims`` turns its checks on."""
    deserializer = json if claims else None
    return pyseto.decode(
        pyseto_key(forger, ring_key),
        token,
        implicit_assertion=b"tokenbench.access",
        deserializer=deserializer,
    ).payload


def past_claims(make_claims: MakeClaims) -> Claims:
    """Claims valid both at the fixed test clock and at the wall clock pyseto checks against."""
    fixed, wall = make_claims().iat, datetime.now(UTC).replace(microsecond=0)
    return make_claims(
        iat=min(fixed, wall) - timedelta(days=1), exp=max(fixed, wall) + timedelta(days=1), nbf=None
    )


def refused(fmt: TokenFormat, token: str, kind: Kind = Kind.ACCESS) -> str:
    with pytest.raises(TokenError) as caught:
        fmt.verify(token, kind=kind)
    return caught.value.code


# --- pyjwt -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("format_name", JWT)
def test_pyjwt_reads_the_last_of_duplicate_claims(
    ring_fmt: TokenFormat, forger: Forger, ring_key: str, make_claims: MakeClaims
) -> None:
    payload = json_bytes(wire_claims(forger.name, make_claims()))[:-1] + b',"role":"admin"}'
    token = forger.token(payload)
    assert pyjwt_decode(forger, ring_key, token)["role"] == "admin"
    assert refused(ring_fmt, token) == "token_malformed"


@pytest.mark.parametrize("format_name", JWT)
def test_pyjwt_takes_a_refresh_token_for_an_access_token(
    ring_fmt: TokenFormat, forger: Forger, ring_key: str, make_claims: MakeClaims
) -> None:
    token = ring_fmt.issue(make_claims(fam="f", ver=0), kind=Kind.REFRESH)
    assert pyjwt_decode(forger, ring_key, token)["fam"] == "f"
    assert refused(ring_fmt, token, Kind.ACCESS) == "token_wrong_kind"


@pytest.mark.parametrize("format_name", JWT)
@pytest.mark.parametrize(
    "exp", [..., "99999999999", "1_000_000_000_000"], ids=["missing", "string", "underscores"]
)
def test_pyjwt_accepts_a_missing_or_string_exp(
    ring_fmt: TokenFormat, forger: Forger, ring_key: str, make_claims: MakeClaims, exp: object
) -> None:
    token = forger.claims_token(make_claims(), exp=exp)
    assert pyjwt_decode(forger, ring_key, token, verify_exp=True)["sub"] == "user-1"
    assert refused(ring_fmt, token) == "token_claims_invalid"


@pytest.mark.parametrize("format_name", JWT)
def test_pyjwt_accepts_extra_header_members_we_refuse(
    ring_fmt: TokenFormat, forger: Forger, ring_key: str, make_claims: MakeClaims
) -> None:
    header = json_bytes(
        {**json.loads(forger.envelope()), "jku": "https://evil.test/keys", "x5u": "https://x"}
    )
    token = forger.token(json_bytes(wire_claims(forger.name, make_claims())), envelope=header)
    assert pyjwt_decode(forger, ring_key, token)["sub"] == "user-1"
    assert refused(ring_fmt, token) == "token_malformed"


# --- pyseto ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("format_name", PASETO)
def test_pyseto_checks_no_claims_unless_asked_and_accepts_a_token_without_exp(
    ring_fmt: TokenFormat, forger: Forger, ring_key: str, make_claims: MakeClaims
) -> None:
    no_exp = forger.claims_token(past_claims(make_claims), exp=...)
    expired = forger.claims_token(
        past_claims(make_claims), exp="2000-01-01T00:00:00Z", iat="1999-01-01T00:00:00Z"
    )
    without_exp = {k: v for k, v in wire_claims(forger.name, past_claims(make_claims)).items() if k != "exp"}
    assert pyseto_decode(forger, ring_key, no_exp) == without_exp
    assert pyseto_decode(forger, ring_key, expired, claims=False)  # without a deserializer: no check at all
    assert refused(ring_fmt, no_exp) == "token_claims_invalid"
    assert refused(ring_fmt, expired) == "token_expired"


@pytest.mark.parametrize("format_name", PASETO)
@pytest.mark.parametrize(
    "exp", ["2099-01-01", "2099-01-01T00:00:00", "2099-01-01 00:00:00Z", "20990101T000000Z"]
)
def test_pyseto_accepts_times_that_are_not_rfc3339(
    ring_fmt: TokenFormat, forger: Forger, ring_key: str, make_claims: MakeClaims, exp: str
) -> None:
    token = forger.claims_token(past_claims(make_claims), exp=exp)
    assert pyseto_decode(forger, ring_key, token)["exp"] == exp
    assert refused(ring_fmt, token) == "token_claims_invalid"


@pytest.mark.parametrize("format_name", PASETO)
def test_pyseto_reads_the_last_of_duplicate_claims(
    ring_fmt: TokenFormat, forger: Forger, ring_key: str, make_claims: MakeClaims
) -> None:
    token = forger.token(
        json_bytes(wire_claims(forger.name, past_claims(make_claims)))[:-1] + b',"role":"admin"}'
    )
    assert pyseto_decode(forger, ring_key, token)["role"] == "admin"
    assert refused(ring_fmt, token) == "token_malformed"


@pytest.mark.parametrize("format_name", PASETO)
def test_pyseto_accepts_a_padded_body(
    ring_fmt: TokenFormat, forger: Forger, ring_key: str, make_claims: MakeClaims
) -> None:
    payload = forger.fit(json_bytes(wire_claims(forger.name, past_claims(make_claims))))
    token = forger.token(payload, spell=lambda data: forge.b64u(data) + "=" * (-len(forge.b64u(data)) % 4))
    assert "=" in token
    assert pyseto_decode(forger, ring_key, token, claims=False)
    assert refused(ring_fmt, token) == "token_malformed"


def test_pyseto_loads_the_31_byte_k4_local_of_vector_k4_local_fail_1() -> None:
    paserk = "k4.local.HFyc3R1dnd4eXp7fH1-f4CBgoOEhYaHiImKi4yNjo8"  # PASERK/k4.local.json, k4.local-fail-1
    assert pyseto.Key.from_paserk(paserk) is not None
    with pytest.raises(KeyConfigError):
        PasetoV4Local.parse_key(paserk, source="k4.local-fail-1")
