"""What is particular to ``jwt-es256``: header, JWKS export, verify-only keys, P-256 key checks, and the
one malleability ECDSA has (which is why refresh replay is keyed by ``jti``, never by the token string)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.jwk import ECKey

from formats import FORMATS, Claims, FormatName, KeyConfigError, Kind, TokenBadSignature, TokenFormat, load
from formats._codec import b64url_decode, b64url_encode
from formats._jwt_common import thumbprint_of
from formats.jwt_es256 import JwtEs256
from tests.conftest import FixedClock

NAME = FormatName.JWT_ES256
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
WriteKey = Callable[[FormatName, str], Path]
MakeClaims = Callable[..., Claims]


@pytest.fixture
def format_name() -> FormatName:
    return NAME


def public_only(jwk_text: str) -> str:
    return json.dumps({k: v for k, v in json.loads(jwk_text).items() if k != "d"})


def ring(*texts: str, clock: FixedClock | None = None) -> TokenFormat:
    return FORMATS[NAME].from_key_texts([(f"key-{i}", t) for i, t in enumerate(texts)], clock=clock)


@pytest.mark.parametrize(("kind", "typ"), [(Kind.ACCESS, "at+jwt"), (Kind.REFRESH, "rt+jwt")])
def test_header_is_exactly_alg_kid_typ(
    fmt: TokenFormat, make_claims: MakeClaims, kind: Kind, typ: str
) -> None:
    claims = make_claims(fam="f", ver=1) if kind is Kind.REFRESH else make_claims()
    header = b64url_decode(fmt.issue(claims, kind=kind).split(".", maxsplit=1)[0])
    assert json.loads(header) == {"alg": "ES256", "kid": fmt.active_kid, "typ": typ}


def test_signature_is_64_bytes_r_then_s(fmt: TokenFormat, make_claims: MakeClaims) -> None:
    assert len(b64url_decode(fmt.issue(make_claims(), kind=Kind.ACCESS).rsplit(".", 1)[1])) == 64


# --- JWKS ------------------------------------------------------------------------------------------------


def test_jwks_lists_active_then_retiring_public_keys_without_private_parts(
    clock: FixedClock, make_claims: MakeClaims
) -> None:
    old, new = JwtEs256.generate_key_text(), JwtEs256.generate_key_text()
    old_token = ring(old, clock=clock).issue(make_claims(), kind=Kind.ACCESS)
    fmt = ring(old, new, clock=clock)
    jwks = fmt.well_known()["jwks.json"]
    assert [k["kid"] for k in jwks["keys"]] == [json.loads(new)["kid"], json.loads(old)["kid"]]
    for published in jwks["keys"]:
        assert set(published) == {"kty", "crv", "x", "y", "alg", "use", "kid"}
        assert (published["kty"], published["crv"], published["alg"], published["use"]) == (
            "EC",
            "P-256",
            "ES256",
            "sig",
        )
    assert '"d"' not in json.dumps(jwks)
    # What a relying party does with it: pick the key by kid and verify with pyjwt.
    new_token = fmt.issue(make_claims(), kind=Kind.ACCESS)
    keyset = jwt.PyJWKSet.from_dict(jwks)
    options = {"verify_exp": False, "verify_iat": False, "verify_nbf": False, "verify_aud": False}
    for token in (old_token, new_token):
        kid = jwt.get_unverified_header(token)["kid"]
        assert jwt.decode(token, keyset[kid].key, algorithms=["ES256"], options=options)["sub"] == "user-1"


def test_jwks_key_ids_are_rfc7638_thumbprints() -> None:
    fmt = ring(JwtEs256.generate_key_text())
    for published in fmt.well_known()["jwks.json"]["keys"]:
        assert ECKey.import_key(published).thumbprint() == published["kid"]


def test_public_only_retiring_key_still_verifies_its_tokens(
    clock: FixedClock, make_claims: MakeClaims
) -> None:
    old, new = JwtEs256.generate_key_text(), JwtEs256.generate_key_text()
    old_token = ring(old, clock=clock).issue(make_claims(), kind=Kind.ACCESS)
    assert ring(public_only(old), new, clock=clock).verify(old_token, kind=Kind.ACCESS) == make_claims()


def test_public_only_active_key_is_refused_because_it_cannot_sign(
    write_key_file: WriteKey, tmp_path: Path
) -> None:
    write_key_file(NAME, JwtEs256.generate_key_text())
    path = write_key_file(NAME, public_only(JwtEs256.generate_key_text()))
    with pytest.raises(KeyConfigError, match="no private part") as refused:
        load(NAME, tmp_path)
    assert str(path) in str(refused.value)
    assert "tokenbench keys rotate --format jwt-es256" in str(refused.value)


# --- keys ------------------------------------------------------------------------------------------------


def ec_jwk(curve: ec.EllipticCurve, crv: str) -> str:
    private = ec.generate_private_key(curve)
    numbers = private.private_numbers()
    size = (curve.key_size + 7) // 8
    jwk = {
        "kty": "EC",
        "crv": crv,
        "x": b64url_encode(numbers.public_numbers.x.to_bytes(size, "big")),
        "y": b64url_encode(numbers.public_numbers.y.to_bytes(size, "big")),
        "d": b64url_encode(numbers.private_value.to_bytes(size, "big")),
    }
    return json.dumps({**jwk, "kid": thumbprint_of(jwk)})


def with_member(text: str, **members: str) -> str:
    """The key with ``members`` changed, and its kid still the thumbprint (so the change is what counts)."""
    jwk = {**json.loads(text), **members}
    return json.dumps({**jwk, "kid": thumbprint_of(jwk) or jwk["kid"]})


def off_curve() -> str:
    text = json.loads(JwtEs256.generate_key_text())
    y = b64url_decode(text["y"])
    return public_only(with_member(json.dumps(text), y=b64url_encode(y[:-1] + bytes([y[-1] ^ 1]))))


def mismatched_d() -> str:
    return with_member(JwtEs256.generate_key_text(), d=json.loads(JwtEs256.generate_key_text())["d"])


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (lambda: ec_jwk(ec.SECP384R1(), "P-384"), "crv is 'P-384'; ES256 needs a P-256 key"),
        (lambda: ec_jwk(ec.SECP256K1(), "secp256k1"), "crv is 'secp256k1'; ES256 needs a P-256 key"),
        (off_curve, "not a valid P-256 key"),
        (mismatched_d, "not a valid P-256 key"),
    ],
    ids=["p-384", "secp256k1", "point-off-the-curve", "d-of-another-key"],
)
def test_key_not_on_p256_is_refused_naming_the_file_and_the_fix(
    write_key_file: WriteKey, tmp_path: Path, text: Callable[[], str], says: str
) -> None:
    path = write_key_file(NAME, text())
    with pytest.raises(KeyConfigError) as refused:
        load(NAME, tmp_path)
    message = str(refused.value)
    assert str(path) in message
    assert says in message
    assert "tokenbench keys generate" in message


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (FORMATS[FormatName.JWT_HS256].generate_key_text, "kty is 'oct'"),
        (lambda: with_member(JwtEs256.generate_key_text(), alg="ES384"), "alg is 'ES384'"),
        (lambda: with_member(JwtEs256.generate_key_text(), x="AAAA"), "32 bytes"),
        (lambda: with_member(JwtEs256.generate_key_text(), x="not base64!"), "not canonical base64url"),
    ],
    ids=["hs256-jwk", "es384-jwk", "short-x", "x-not-base64url"],
)
def test_key_file_that_is_not_a_p256_jwk_is_refused_naming_the_file_and_the_fix(
    write_key_file: WriteKey, tmp_path: Path, text: Callable[[], str], says: str
) -> None:
    path = write_key_file(NAME, text())
    with pytest.raises(KeyConfigError) as refused:
        load(NAME, tmp_path)
    assert str(path) in str(refused.value)
    assert says in str(refused.value)
    assert "tokenbench keys generate --format jwt-es256" in str(refused.value)


# --- malleability ----------------------------------------------------------------------------------------


def test_ecdsa_signature_with_s_negated_verifies_so_a_token_string_is_not_its_identity(
    fmt: TokenFormat, make_claims: MakeClaims
) -> None:
    # ECDSA accepts (r, s) and (r, n - s) alike; neither RFC 7518 nor the libraries require low-S. A second,
    # different string of the same token verifies to the same claims, with the same jti: replay detection
    # must key on jti (docs/design.md), and a cache keyed on the token string would miss this one.
    token = fmt.issue(make_claims(), kind=Kind.ACCESS)
    signing_input, _, signature = token.rpartition(".")
    raw = b64url_decode(signature)
    s = int.from_bytes(raw[32:], "big")
    twin = f"{signing_input}.{b64url_encode(raw[:32] + (P256_ORDER - s).to_bytes(32, 'big'))}"
    assert twin != token
    assert fmt.verify(twin, kind=Kind.ACCESS) == fmt.verify(token, kind=Kind.ACCESS)
    # s itself out of range (s + n) or any other s fails.
    for other in (s + P256_ORDER, (s + 1) % P256_ORDER):
        if other < 2**256:
            with pytest.raises(TokenBadSignature):
                fmt.verify(
                    f"{signing_input}.{b64url_encode(raw[:32] + other.to_bytes(32, 'big'))}", kind=Kind.ACCESS
                )
