"""What is particular to ``jwt-eddsa``: header, JWKS export, verify-only keys, ``OKP`` Ed25519 key checks,
and the one signature spelling Ed25519 has (unlike ECDSA, whose ``(r, n - s)`` twin verifies too)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jwt
import pytest
from joserfc import jws
from joserfc.errors import SecurityWarning
from joserfc.jwk import OKPKey

from formats import FORMATS, Claims, FormatName, KeyConfigError, Kind, TokenBadSignature, TokenFormat, load
from formats._codec import b64url_decode, b64url_encode
from formats._jwt_common import thumbprint_of
from formats.jwt_eddsa import JwtEdDsa
from tests.conftest import FixedClock

NAME = FormatName.JWT_EDDSA
ED25519_ORDER = 2**252 + 27742317777372353535851937790883648493
WriteKey = Callable[[FormatName, str], Path]
MakeClaims = Callable[..., Claims]


@pytest.fixture
def format_name() -> FormatName:
    return NAME


def public_only(jwk_text: str) -> str:
    return json.dumps({k: v for k, v in json.loads(jwk_text).items() if k != "d"})


def with_member(text: str, **members: str) -> str:
    """The key with ``members`` changed, and its kid still the thumbprint (so the change is what counts)."""
    jwk = {**json.loads(text), **members}
    return json.dumps({**jwk, "kid": thumbprint_of(jwk) or jwk["kid"]})


def ring(*texts: str, clock: FixedClock | None = None) -> TokenFormat:
    return FORMATS[NAME].from_key_texts([(f"key-{i}", t) for i, t in enumerate(texts)], clock=clock)


@pytest.mark.parametrize(("kind", "typ"), [(Kind.ACCESS, "at+jwt"), (Kind.REFRESH, "rt+jwt")])
def test_header_is_exactly_alg_kid_typ(
    fmt: TokenFormat, make_claims: MakeClaims, kind: Kind, typ: str
) -> None:
    claims = make_claims(fam="f", ver=1) if kind is Kind.REFRESH else make_claims()
    header = b64url_decode(fmt.issue(claims, kind=kind).split(".", maxsplit=1)[0])
    assert json.loads(header) == {"alg": "EdDSA", "kid": fmt.active_kid, "typ": typ}


def test_signature_is_64_bytes_and_deterministic(fmt: TokenFormat, make_claims: MakeClaims) -> None:
    token = fmt.issue(make_claims(), kind=Kind.ACCESS)
    assert len(b64url_decode(token.rsplit(".", 1)[1])) == 64
    assert fmt.issue(make_claims(), kind=Kind.ACCESS) == token  # Ed25519 signs deterministically


# --- JWKS ------------------------------------------------------------------------------------------------


def test_jwks_lists_active_then_retiring_public_keys_without_private_parts(
    clock: FixedClock, make_claims: MakeClaims
) -> None:
    old, new = JwtEdDsa.generate_key_text(), JwtEdDsa.generate_key_text()
    old_token = ring(old, clock=clock).issue(make_claims(), kind=Kind.ACCESS)
    fmt = ring(old, new, clock=clock)
    jwks = fmt.well_known()["jwks.json"]
    assert [k["kid"] for k in jwks["keys"]] == [json.loads(new)["kid"], json.loads(old)["kid"]]
    for published in jwks["keys"]:
        assert published == {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": published["x"],
            "alg": "EdDSA",
            "use": "sig",
            "kid": published["kid"],
        }
    assert '"d"' not in json.dumps(jwks)
    # What a relying party does with it: pick the key by kid and verify with pyjwt, or with joserfc.
    new_token = fmt.issue(make_claims(), kind=Kind.ACCESS)
    keyset = jwt.PyJWKSet.from_dict(jwks)
    options = {"verify_exp": False, "verify_iat": False, "verify_nbf": False, "verify_aud": False}
    for token in (old_token, new_token):
        kid = jwt.get_unverified_header(token)["kid"]
        assert jwt.decode(token, keyset[kid].key, algorithms=["EdDSA"], options=options)["sub"] == "user-1"
        published = next(k for k in jwks["keys"] if k["kid"] == kid)
        with pytest.warns(SecurityWarning, match="RFC 9864"):  # joserfc: "EdDSA" is deprecated, see docs
            jws.deserialize_compact(token, OKPKey.import_key(published), algorithms=["EdDSA"])


def test_jwks_key_ids_are_rfc7638_thumbprints() -> None:
    fmt = ring(JwtEdDsa.generate_key_text())
    for published in fmt.well_known()["jwks.json"]["keys"]:
        assert OKPKey.import_key(published).thumbprint() == published["kid"]


def test_public_only_retiring_key_still_verifies_its_tokens(
    clock: FixedClock, make_claims: MakeClaims
) -> None:
    old, new = JwtEdDsa.generate_key_text(), JwtEdDsa.generate_key_text()
    old_token = ring(old, clock=clock).issue(make_claims(), kind=Kind.ACCESS)
    assert ring(public_only(old), new, clock=clock).verify(old_token, kind=Kind.ACCESS) == make_claims()


def test_public_only_active_key_is_refused_because_it_cannot_sign(
    write_key_file: WriteKey, tmp_path: Path
) -> None:
    write_key_file(NAME, JwtEdDsa.generate_key_text())
    path = write_key_file(NAME, public_only(JwtEdDsa.generate_key_text()))
    with pytest.raises(KeyConfigError, match="no private part") as refused:
        load(NAME, tmp_path)
    assert str(path) in str(refused.value)
    assert "tokenbench keys rotate --format jwt-eddsa" in str(refused.value)


# --- keys ------------------------------------------------------------------------------------------------


def other_seed() -> str:
    return str(json.loads(JwtEdDsa.generate_key_text())["d"])


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (lambda: with_member(JwtEdDsa.generate_key_text(), crv="X25519"), "crv is 'X25519'"),
        (lambda: with_member(JwtEdDsa.generate_key_text(), crv="Ed448"), "crv is 'Ed448'"),
        (FORMATS[FormatName.JWT_ES256].generate_key_text, "kty is 'EC'"),
        (FORMATS[FormatName.JWT_HS256].generate_key_text, "kty is 'oct'"),
        (FORMATS[FormatName.PASETO_V4_PUBLIC].generate_key_text, "not a JWK"),
        (lambda: with_member(JwtEdDsa.generate_key_text(), alg="ES256"), "alg is 'ES256'"),
        (lambda: with_member(JwtEdDsa.generate_key_text(), alg="Ed25519"), "alg is 'Ed25519'"),
        (lambda: with_member(JwtEdDsa.generate_key_text(), x="AAAA"), "x is 32 bytes"),
        (lambda: with_member(JwtEdDsa.generate_key_text(), x="not base64!"), "not canonical base64url"),
        (lambda: with_member(JwtEdDsa.generate_key_text(), d="AAAA"), "d is 32 bytes"),
        (lambda: with_member(JwtEdDsa.generate_key_text(), d=other_seed()), "x does not match"),
        (lambda: public_only(with_member(JwtEdDsa.generate_key_text(), x=7)), "'x' is missing"),  # type: ignore[arg-type]
    ],
    ids=[
        "x25519",
        "ed448",
        "es256-jwk",
        "hs256-jwk",
        "k4-secret",
        "alg-es256",
        "alg-ed25519",
        "short-x",
        "x-not-base64url",
        "short-d",
        "d-of-another-key",
        "x-not-a-string",
    ],
)
def test_key_file_that_is_not_an_ed25519_okp_jwk_is_refused_naming_the_file_and_the_fix(
    write_key_file: WriteKey, tmp_path: Path, text: Callable[[], str], says: str
) -> None:
    path = write_key_file(NAME, text())
    with pytest.raises(KeyConfigError) as refused:
        load(NAME, tmp_path)
    message = str(refused.value)
    assert str(path) in message
    assert says in message
    assert "tokenbench keys generate" in message


def test_the_same_seed_as_jwt_eddsa_and_paseto_v4_public_key_is_refused_by_both(
    write_key_file: WriteKey, tmp_path: Path
) -> None:
    # One Ed25519 key, two formats: a v4.public token and an EdDSA JWS would be signed by the same key.
    okp = json.loads(JwtEdDsa.generate_key_text())
    seed = b64url_decode(okp["d"])
    eddsa_path = write_key_file(NAME, json.dumps(okp))
    public_path = write_key_file(
        FormatName.PASETO_V4_PUBLIC, "k4.secret." + b64url_encode(seed + b64url_decode(okp["x"]))
    )
    for name, own, other in (
        (NAME, eddsa_path, public_path),
        (FormatName.PASETO_V4_PUBLIC, public_path, eddsa_path),
    ):
        with pytest.raises(KeyConfigError, match="same key bytes") as refused:
            load(name, tmp_path)
        assert str(own) in str(refused.value)
        assert str(other) in str(refused.value)


# --- one spelling per signature --------------------------------------------------------------------------


def test_ed25519_signature_with_s_plus_the_group_order_is_refused_so_a_token_has_one_spelling(
    fmt: TokenFormat, make_claims: MakeClaims
) -> None:
    # RFC 8032 §5.1.7 requires 0 <= S < L. With S + L accepted (as some Ed25519 implementations once did),
    # a second string of the same token would verify; libsodium refuses it, so unlike ES256 a jwt-eddsa token
    # string has one spelling. Replay detection still keys on jti, as in every format.
    token = fmt.issue(make_claims(), kind=Kind.ACCESS)
    signing_input, _, signature = token.rpartition(".")
    raw = b64url_decode(signature)
    s = int.from_bytes(raw[32:], "little")
    twin = f"{signing_input}.{b64url_encode(raw[:32] + (s + ED25519_ORDER).to_bytes(32, 'little'))}"
    with pytest.raises(TokenBadSignature):
        fmt.verify(twin, kind=Kind.ACCESS)
