"""Key files across formats: one key, one format (catalog CROSS-FORMAT-KEY-REUSE, WEAK-SYMMETRIC-KEY)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest

from formats import FormatName, KeyConfigError, load
from formats._codec import b64url_decode, b64url_encode
from formats.keys import generate_key_file, list_key_files

WriteKey = Callable[[FormatName, str], Path]


def hs256_jwk(secret: bytes) -> str:
    return json.dumps({"kty": "oct", "alg": "HS256", "kid": "shared", "k": b64url_encode(secret)})


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
