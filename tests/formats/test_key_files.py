"""Key files across formats: one key, one format (catalog CROSS-FORMAT-KEY-REUSE, WEAK-SYMMETRIC-KEY)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest

from formats import FORMATS, FormatName, KeyConfigError, load
from formats._codec import b64url_decode, b64url_encode
from formats._jwt_common import thumbprint_of
from formats.keys import generate_key_file, list_key_files

WriteKey = Callable[[FormatName, str], Path]


def hs256_jwk(secret: bytes) -> str:
    k = b64url_encode(secret)
    return json.dumps({"kty": "oct", "alg": "HS256", "kid": thumbprint_of({"kty": "oct", "k": k}), "k": k})


def test_the_same_bytes_as_hs256_secret_and_v4_local_key_are_refused_by_both(
    write_key_file: WriteKey, tmp_path: Path
) -> None:
    shared = secrets.token_bytes(32)
    hs_path = write_key_file(FormatName.JWT_HS256, hs256_jwk(shared))
    local_path = write_key_file(FormatName.PASETO_V4_LOCAL, "k4.local." + b64url_encode(shared))
    for name, own, other in (
        (FormatName.JWT_HS256, hs_path, local_path),
        (FormatName.PASETO_V4_LOCAL, local_path, hs_path),
    ):
        with pytest.raises(KeyConfigError, match="same key bytes") as refused:
            load(name, tmp_path)
        assert str(own) in str(refused.value)
        assert str(other) in str(refused.value)
        assert f"tokenbench keys rotate --format {name.value}" in str(refused.value)


def test_distinct_keys_of_every_format_in_one_directory_load(tmp_path: Path) -> None:
    for name in FormatName:
        generate_key_file(tmp_path, name)
    for name in FormatName:
        assert load(name, tmp_path).active_kid == list_key_files(tmp_path, name)[-1].kid


def test_an_unreadable_key_of_another_format_does_not_stop_this_one(
    write_key_file: WriteKey, tmp_path: Path
) -> None:
    write_key_file(FormatName.JWT_HS256, "not a key")
    generate_key_file(tmp_path, FormatName.PASETO_V4_LOCAL)
    load(FormatName.PASETO_V4_LOCAL, tmp_path)


def test_a_passphrase_as_v4_local_key_is_refused_naming_the_file_and_the_fix(
    write_key_file: WriteKey, tmp_path: Path
) -> None:
    path = write_key_file(
        FormatName.PASETO_V4_LOCAL, "k4.local." + b64url_encode(b"correct horse battery staple 32!")
    )
    with pytest.raises(KeyConfigError, match="printable text") as refused:
        load(FormatName.PASETO_V4_LOCAL, tmp_path)
    assert str(path) in str(refused.value)
    assert "tokenbench keys generate" in str(refused.value)


JWK_FORMATS = [name for name in FormatName if FORMATS[name].key_file_suffix == ".jwk"]


@pytest.mark.parametrize("name", JWK_FORMATS, ids=str)
def test_a_generated_jwk_names_itself_by_its_rfc_7638_thumbprint(name: FormatName) -> None:
    jwk = json.loads(FORMATS[name].generate_key_text())
    assert jwk["kid"] == thumbprint_of(jwk)
    assert FORMATS[name].key_id_of(json.dumps(jwk), source="generated") == jwk["kid"]


@pytest.mark.parametrize("name", JWK_FORMATS, ids=str)
@pytest.mark.parametrize("kid", ["k1", "other-key"], ids=["made-up", "another-keys-kid"])
def test_a_jwk_whose_kid_is_not_its_thumbprint_is_refused_naming_the_file_and_the_fix(
    write_key_file: WriteKey, tmp_path: Path, name: FormatName, kid: str
) -> None:
    jwk = json.loads(FORMATS[name].generate_key_text())
    expected = jwk["kid"]
    if kid == "other-key":
        kid = json.loads(FORMATS[name].generate_key_text())["kid"]
    path = write_key_file(name, json.dumps({**jwk, "kid": kid}))
    with pytest.raises(KeyConfigError) as refused:
        load(name, tmp_path)
    message = str(refused.value)
    assert message.startswith(f"{path}: JWK kid {kid!r} is not the key's RFC 7638 thumbprint; ")
    assert f'set "kid" to "{expected}"' in message
    assert f"tokenbench keys generate --format {name.value}" in message
    path.write_text(json.dumps({**jwk, "kid": expected}))
    assert load(name, tmp_path).active_kid == expected


def test_the_thumbprint_covers_the_required_members_only() -> None:
    """RFC 7638 §3.3: optional members (alg, use, d) do not change it; the RFC's own example does."""
    rfc_7638_example = {
        "kty": "RSA",
        "n": (
            "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJE"
            "CPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2Q"
            "vzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6"
            "WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
        ),
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert thumbprint_of(rfc_7638_example) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    assert thumbprint_of({"kty": "oct"}) is None  # a missing member is the format's to name


SECRET_KEY_FILES = {
    FormatName.JWT_HS256: hs256_jwk,
    FormatName.PASETO_V4_LOCAL: lambda raw: "k4.local." + b64url_encode(raw),
}


@pytest.mark.parametrize("secret_format", list(SECRET_KEY_FILES))
@pytest.mark.parametrize("public_format", [FormatName.JWT_EDDSA, FormatName.PASETO_V4_PUBLIC])
def test_a_published_ed25519_public_key_as_a_secret_key_is_refused_when_its_key_is_beside_it(
    write_key_file: WriteKey, tmp_path: Path, public_format: FormatName, secret_format: FormatName
) -> None:
    # The format flag flipped to a symmetric format and the public key copied as the secret: 32 bytes as
    # random as a secret's (catalog JWT-KEYCONF-ES-HS, PASETO-PURPOSE-CONFUSION), so only the key files
    # beside it can tell.
    generate_key_file(tmp_path, public_format)
    published = load(public_format, tmp_path).well_known()
    document = next(iter(published.values()))["keys"][0]
    raw = b64url_decode(document["x"]) if "x" in document else b64url_decode(document["paserk"][10:])
    path = write_key_file(secret_format, SECRET_KEY_FILES[secret_format](raw))
    with pytest.raises(KeyConfigError, match="holds the public key of") as refused:
        load(secret_format, tmp_path)
    assert str(path) in str(refused.value)
    assert f"tokenbench keys rotate --format {secret_format.value}" in str(refused.value)
