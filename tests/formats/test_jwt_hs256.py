"""What is particular to ``jwt-hs256``: its header, its signature segment, and its shared-secret keys."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from joserfc.jwk import OctKey

from formats import FORMATS, Claims, FormatName, KeyConfigError, Kind, TokenFormat, TokenMalformed, load
from formats._codec import b64url_decode, b64url_encode
from formats._jwt_common import thumbprint_of
from formats.jwt_es256 import JwtEs256
from tests.formats.rawtokens import Forger, json_bytes, wire_claims

NAME = FormatName.JWT_HS256
WriteKey = Callable[[FormatName, str], Path]


@pytest.fixture
def format_name() -> FormatName:
    return NAME


def header_of(token: str) -> bytes:
    return b64url_decode(token.split(".", maxsplit=1)[0])


@pytest.mark.parametrize(("kind", "typ"), [(Kind.ACCESS, "at+jwt"), (Kind.REFRESH, "rt+jwt")])
def test_header_is_exactly_alg_kid_typ(
    ring_fmt: TokenFormat, make_claims: Callable[..., Claims], kind: Kind, typ: str
) -> None:
    claims = make_claims(fam="f", ver=1) if kind is Kind.REFRESH else make_claims()
    token = ring_fmt.issue(claims, kind=kind)
    kid = ring_fmt.active_kid
    assert header_of(token) == json_bytes({"alg": "HS256", "kid": kid, "typ": typ})


def test_header_members_in_another_order_still_verify(
    ring_fmt: TokenFormat, forger: Forger, make_claims: Callable[..., Claims]
) -> None:
    payload = json_bytes(wire_claims(NAME, make_claims()))
    header = json_bytes({"typ": "at+jwt", "kid": forger.kid, "alg": "HS256"})
    assert ring_fmt.verify(forger.token(payload, envelope=header), kind=Kind.ACCESS) == make_claims()


@pytest.mark.parametrize(
    "change",
    [
        {"alg": "HS512"},
        {"alg": "hs256"},
        {"alg": "ES256"},
        {"alg": "none"},
        {"alg": ["HS256"]},
        {"typ": "JWT"},
        {"typ": "at+JWT"},
        {"typ": "application/at+jwt"},
        {"typ": None},
        {"kid": 1},
        {"kid": None},
        {"jwk": {"kty": "oct", "k": "AAAA"}},
        {"jku": "https://evil.test/jwks.json"},
        {"crit": ["b64"], "b64": False},
        {"cty": "JWT"},
    ],
    ids=lambda change: ",".join(f"{k}={v!r}" for k, v in change.items())[:40],
)
def test_any_other_header_is_malformed(
    ring_fmt: TokenFormat, forger: Forger, make_claims: Callable[..., Claims], change: dict[str, object]
) -> None:
    payload = json_bytes(wire_claims(NAME, make_claims()))
    header = json_bytes({**json.loads(forger.envelope(Kind.ACCESS)), **change})
    with pytest.raises(TokenMalformed):
        ring_fmt.verify(forger.token(payload, envelope=header), kind=Kind.ACCESS)


def test_header_without_kid_or_typ_is_malformed(
    ring_fmt: TokenFormat, forger: Forger, make_claims: Callable[..., Claims]
) -> None:
    payload = json_bytes(wire_claims(NAME, make_claims()))
    for missing in ("kid", "typ", "alg"):
        header = {k: v for k, v in json.loads(forger.envelope(Kind.ACCESS)).items() if k != missing}
        with pytest.raises(TokenMalformed):
            ring_fmt.verify(forger.token(payload, envelope=json_bytes(header)), kind=Kind.ACCESS)


def test_padded_signature_segment_is_malformed_though_pyjwt_accepts_it(
    ring_fmt: TokenFormat, ring_key: str, make_claims: Callable[..., Claims]
) -> None:
    token = ring_fmt.issue(make_claims(), kind=Kind.ACCESS)
    assert len(token.rsplit(".", 1)[1]) % 4 == 3  # 32 bytes: 43 characters, one "=" of padding
    padded = token + "="
    secret = b64url_decode(json.loads(ring_key)["k"])
    options = {"verify_exp": False, "verify_iat": False, "verify_nbf": False, "verify_aud": False}
    assert jwt.decode(padded, secret, algorithms=["HS256"], options=options)["sub"] == "user-1"
    with pytest.raises(TokenMalformed):
        ring_fmt.verify(padded, kind=Kind.ACCESS)


def test_signature_with_nonzero_unused_bits_is_malformed(
    ring_fmt: TokenFormat, make_claims: Callable[..., Claims]
) -> None:
    token = ring_fmt.issue(make_claims(), kind=Kind.ACCESS)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(token[-1])
    for unused in (0b01, 0b10, 0b11):
        respelled = token[:-1] + alphabet[last ^ unused]
        with pytest.raises(TokenMalformed):
            ring_fmt.verify(respelled, kind=Kind.ACCESS)


# --- keys ------------------------------------------------------------------------------------------------


def oct_jwk(secret: bytes) -> str:
    k = b64url_encode(secret)
    return json.dumps({"kty": "oct", "alg": "HS256", "kid": thumbprint_of({"kty": "oct", "k": k}), "k": k})


def ec_public_key() -> ec.EllipticCurvePublicKey:
    return ec.generate_private_key(ec.SECP256R1()).public_key()


def pem(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def der(key: ec.EllipticCurvePublicKey | Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def raw_point(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def es256_public_jwk_text() -> bytes:
    private = json.loads(JwtEs256.generate_key_text())
    return json.dumps({k: v for k, v in private.items() if k != "d"}).encode()


@pytest.mark.parametrize(
    ("secret", "says"),
    [
        (lambda: b"", "empty"),
        (lambda: secrets.token_bytes(31), "31 bytes, at least 32"),
        (lambda: secrets.token_bytes(16), "16 bytes, at least 32"),
        (lambda: b"correct horse battery staple, and more words", "printable text"),
        (lambda: pem(ec_public_key()), "printable text"),
        (es256_public_jwk_text, "printable text"),
        (lambda: der(ec_public_key()), "EC public key"),
        (lambda: raw_point(ec_public_key()), "EC public key"),
        (lambda: der(Ed25519PrivateKey.generate().public_key()), "Ed25519 public key"),
    ],
    ids=[
        "empty",
        "31-bytes",
        "16-bytes",
        "passphrase",
        "pem-public-key",
        "jwk-public-key",
        "der",
        "raw-point",
        "ed25519-der",
    ],
)
def test_weak_or_confused_secret_is_refused_naming_the_file_and_the_fix(
    write_key_file: WriteKey, tmp_path: Path, secret: Callable[[], bytes], says: str
) -> None:
    path = write_key_file(NAME, oct_jwk(secret()))
    with pytest.raises(KeyConfigError) as refused:
        load(NAME, tmp_path)
    message = str(refused.value)
    assert str(path) in message
    assert says in message
    assert "tokenbench keys generate --format jwt-hs256" in message


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (lambda: "-----BEGIN PUBLIC KEY-----\nMFkw...\n-----END PUBLIC KEY-----", "not a JWK"),
        (JwtEs256.generate_key_text, "kty is 'EC'"),
        (lambda: json.dumps({"kty": "oct", "k": b64url_encode(secrets.token_bytes(32))}), "no kid"),
        (lambda: json.dumps({"kty": "oct", "alg": "HS512", "kid": "k", "k": "AAAA"}), "alg is 'HS512'"),
        (lambda: "[]", "JSON object"),
    ],
    ids=["pem-file", "es256-jwk", "no-kid", "hs512-jwk", "not-an-object"],
)
def test_key_file_that_is_not_an_hs256_jwk_is_refused_naming_the_file_and_the_fix(
    write_key_file: WriteKey, tmp_path: Path, text: Callable[[], str], says: str
) -> None:
    path = write_key_file(NAME, text())
    with pytest.raises(KeyConfigError) as refused:
        load(NAME, tmp_path)
    assert str(path) in str(refused.value)
    assert says in str(refused.value)
    assert "tokenbench keys generate --format jwt-hs256" in str(refused.value)


def test_generated_key_is_32_random_bytes_with_its_rfc7638_thumbprint_as_kid() -> None:
    text = FORMATS[NAME].generate_key_text()
    jwk = json.loads(text)
    assert (jwk["kty"], jwk["alg"], len(b64url_decode(jwk["k"]))) == ("oct", "HS256", 32)
    thumbprint = OctKey.import_key(jwk).thumbprint()  # joserfc, independently
    assert FORMATS[NAME].key_id_of(text, source="generated") == jwk["kid"] == thumbprint
