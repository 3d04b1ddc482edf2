"""Official PASETO v4 vectors (``tests/vectors/paseto/v4.json``, paseto-standard/test-vectors; see the README
there) through the raw primitives the formats verify with.

``4-E-*`` decrypt with :func:`formats.paseto_v4_local.decrypt` and ``4-S-*`` verify with
:func:`formats.paseto_v4_public.verify_signature`, both after the strict parse of
:func:`formats._paseto_common.split_token`, with the vector's footer and implicit assertion. Every ``4-F-*``
vector is refused, including 4-F-4 (non-zero trailing bits) and 4-F-5 (``=`` padding), which pyseto alone
accepts: the refusal comes from the strict parse, and the last test shows the tokens are otherwise intact.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyseto
import pytest

from formats import KeyConfigError, TokenMalformed, forge
from formats._codec import b64url_encode
from formats._paseto_common import split_token
from formats.paseto_v4_local import PasetoV4Local, decrypt
from formats.paseto_v4_public import PasetoV4Public, verify_signature

V4: list[dict[str, Any]] = json.loads(
    (Path(__file__).parents[1] / "vectors" / "paseto" / "v4.json").read_text(encoding="utf-8")
)["tests"]
LOCAL = [v for v in V4 if v["name"].startswith("4-E-")]
PUBLIC = [v for v in V4 if v["name"].startswith("4-S-")]
MUST_FAIL = [v for v in V4 if v["name"].startswith("4-F-")]


def names(vectors: list[dict[str, Any]]) -> list[str]:
    return [v["name"] for v in vectors]


def test_every_v4_vector_is_exercised() -> None:
    assert (len(LOCAL), len(PUBLIC), len(MUST_FAIL)) == (9, 3, 5)
    assert len(LOCAL) + len(PUBLIC) + len(MUST_FAIL) == len(V4)
    assert all(v["expect-fail"] for v in MUST_FAIL)
    assert not any(v["expect-fail"] for v in LOCAL + PUBLIC)


@pytest.mark.parametrize("vector", LOCAL, ids=names(LOCAL))
def test_v4_local_vector_decrypts_to_its_payload(vector: dict[str, Any]) -> None:
    key = bytes.fromhex(vector["key"])
    implicit = vector["implicit-assertion"].encode()
    body, _, footer = split_token(vector["token"], "v4.local.")
    assert footer == vector["footer"].encode()
    assert body[:32] == bytes.fromhex(vector["nonce"])
    assert decrypt(key, body, footer, implicit) == vector["payload"].encode()
    # Footer and implicit assertion are authenticated: change either and decryption fails.
    assert decrypt(key, body, footer + b" ", implicit) is None
    assert decrypt(key, body, footer, implicit + b"x") is None


@pytest.mark.parametrize("vector", LOCAL, ids=names(LOCAL))
def test_v4_local_key_of_the_vector_loads_as_k4_local(vector: dict[str, Any]) -> None:
    key = bytes.fromhex(vector["key"])
    _, loaded = PasetoV4Local.parse_key("k4.local." + b64url_encode(key), source=vector["name"])
    assert loaded == key


@pytest.mark.parametrize("vector", LOCAL, ids=names(LOCAL))
def test_forge_reproduces_the_v4_local_vector(vector: dict[str, Any]) -> None:
    # formats.forge builds the contract suite's raw tokens; the vectors pin it to the spec.
    token = forge.v4_local(
        bytes.fromhex(vector["key"]),
        vector["payload"].encode(),
        footer=vector["footer"].encode(),
        implicit=vector["implicit-assertion"].encode(),
        nonce=bytes.fromhex(vector["nonce"]),
    )
    assert token == vector["token"]


@pytest.mark.parametrize("vector", PUBLIC, ids=names(PUBLIC))
def test_v4_public_vector_verifies_to_its_payload(vector: dict[str, Any]) -> None:
    public = bytes.fromhex(vector["public-key"])
    implicit = vector["implicit-assertion"].encode()
    body, _, footer = split_token(vector["token"], "v4.public.")
    assert footer == vector["footer"].encode()
    assert verify_signature(public, body, footer, implicit) == vector["payload"].encode()
    assert verify_signature(public, body, footer + b" ", implicit) is None
    assert verify_signature(public, body, footer, implicit + b"x") is None


@pytest.mark.parametrize("vector", PUBLIC, ids=names(PUBLIC))
def test_v4_public_keys_of_the_vector_load_and_resign_it(vector: dict[str, Any]) -> None:
    secret = bytes.fromhex(vector["secret-key"])
    _, key = PasetoV4Public.parse_key("k4.secret." + b64url_encode(secret), source=vector["name"])
    assert key.public == bytes.fromhex(vector["public-key"])
    _, public_only = PasetoV4Public.parse_key(key.public_paserk, source=vector["name"])
    assert public_only.secret is None
    token = forge.v4_public(
        secret,
        vector["payload"].encode(),
        footer=vector["footer"].encode(),
        implicit=vector["implicit-assertion"].encode(),
    )
    assert token == vector["token"]  # Ed25519 is deterministic


def strict_open(vector: dict[str, Any]) -> bytes | None:
    """Open a vector's token the way its key allows: symmetric key -> v4.local, key pair -> v4.public."""
    implicit = vector["implicit-assertion"].encode()
    if "key" in vector:
        body, _, footer = split_token(vector["token"], "v4.local.")
        return decrypt(bytes.fromhex(vector["key"]), body, footer, implicit)
    body, _, footer = split_token(vector["token"], "v4.public.")
    return verify_signature(bytes.fromhex(vector["public-key"]), body, footer, implicit)


@pytest.mark.parametrize("vector", MUST_FAIL, ids=names(MUST_FAIL))
def test_v4_must_fail_vector_is_refused_by_the_strict_parse(vector: dict[str, Any]) -> None:
    with pytest.raises(TokenMalformed):
        strict_open(vector)


def test_4_f_1_and_4_f_2_keys_cannot_cross_purpose() -> None:
    # Algorithm lucidity: a key pair never becomes a v4.local key, a symmetric key never a v4.public key.
    f1, f2 = (next(v for v in MUST_FAIL if v["name"] == n) for n in ("4-F-1", "4-F-2"))
    public_paserk = "k4.public." + b64url_encode(bytes.fromhex(f1["public-key"]))
    with pytest.raises(KeyConfigError, match=r"expected a PASERK k4\.local key"):
        PasetoV4Local.parse_key(public_paserk, source="4-F-1")
    with pytest.raises(KeyConfigError, match=r"expected a PASERK k4\.secret or k4\.public key"):
        PasetoV4Public.parse_key("k4.local." + b64url_encode(bytes.fromhex(f2["key"])), source="4-F-2")


@pytest.mark.parametrize("name", ["4-F-4", "4-F-5"])
def test_pyseto_alone_accepts_the_non_canonical_vector_that_we_refuse(name: str) -> None:
    vector = next(v for v in MUST_FAIL if v["name"] == name)
    key = bytes.fromhex(vector["key"])
    implicit = vector["implicit-assertion"].encode()
    # Read leniently, the body authenticates: the only defect is the spelling, and only we refuse it.
    _, body, footer = forge.paseto_split(vector["token"])
    assert decrypt(key, body, footer, implicit) is not None
    decoded = pyseto.decode(pyseto.Key.new(4, "local", key), vector["token"], implicit_assertion=implicit)
    assert decoded.payload == decrypt(key, body, footer, implicit)
    with pytest.raises(TokenMalformed):
        strict_open(vector)
