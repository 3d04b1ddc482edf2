"""Official PASERK k4 vectors (``tests/vectors/paseto/PASERK/``, paseto-standard/test-vectors) through our
key loaders (``PasetoV4Local.parse_key``, ``PasetoV4Public.parse_key``) and key-id function
(``formats._paseto_common.paserk_id``).

Plain keys (``k4.local``, ``k4.public``, ``k4.secret``) and ids (``k4.lid``, ``k4.pid``, ``k4.sid``) must
match byte for byte; every must-fail vector is refused (a wrong-length key never becomes a PASERK or a key
id). tokenbench stores plain keys only, so wrapped, password-protected and sealed keys (``-wrap.pie``,
``-pw``, ``seal``) are refused by the loaders with a message that names the file and the type found.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from formats import KeyConfigError
from formats._codec import b64url_encode
from formats._paseto_common import paserk_id
from formats.paseto_v4_local import PasetoV4Local
from formats.paseto_v4_public import PasetoV4Public

PASERK_DIR = Path(__file__).parents[1] / "vectors" / "paseto" / "PASERK"


def vectors(kind: str, *, fail: bool) -> list[dict[str, Any]]:
    tests: list[dict[str, Any]] = json.loads((PASERK_DIR / f"{kind}.json").read_text(encoding="utf-8"))[
        "tests"
    ]
    return [t for t in tests if t["expect-fail"] is fail]


def ids(tests: list[dict[str, Any]]) -> list[str]:
    return [t["name"] for t in tests]


def key_bytes(vector: dict[str, Any]) -> bytes:
    return bytes.fromhex(vector["key"])


PLAIN = ["k4.local", "k4.public", "k4.secret", "k4.lid", "k4.pid", "k4.sid"]
PROTECTED = ["k4.local-pw", "k4.secret-pw", "k4.local-wrap.pie", "k4.secret-wrap.pie", "k4.seal"]


def test_every_k4_vector_file_is_exercised() -> None:
    files = sorted(p.name.removesuffix(".json") for p in PASERK_DIR.glob("k4.*.json"))
    assert files == sorted(PLAIN + PROTECTED)
    counts = {k: (len(vectors(k, fail=False)), len(vectors(k, fail=True))) for k in PLAIN + PROTECTED}
    assert sum(ok + bad for ok, bad in counts.values()) == 51


# --- k4.local / k4.lid ---------------------------------------------------------------------------------


@pytest.mark.parametrize("vector", vectors("k4.local", fail=False), ids=ids(vectors("k4.local", fail=False)))
def test_k4_local_vector_loads_to_its_key_and_reserialises_identically(vector: dict[str, Any]) -> None:
    _, key = PasetoV4Local.parse_key(vector["paserk"], source=vector["name"])
    assert key == key_bytes(vector)
    assert "k4.local." + b64url_encode(key) == vector["paserk"]


@pytest.mark.parametrize("vector", vectors("k4.local", fail=True), ids=ids(vectors("k4.local", fail=True)))
def test_k4_local_must_fail_vector_is_refused(vector: dict[str, Any]) -> None:
    # k4.local-fail-1 is 42 characters: 31 bytes, and its last character has non-zero unused bits
    # (pyseto 1.10 loads it as a 31-byte key); k4.local-fail-2 is a k3 key.
    with pytest.raises(KeyConfigError) as refused:
        PasetoV4Local.parse_key(vector["paserk"], source=f"keys/{vector['name']}.paserk")
    assert f"keys/{vector['name']}.paserk" in str(refused.value)


@pytest.mark.parametrize("vector", vectors("k4.lid", fail=False), ids=ids(vectors("k4.lid", fail=False)))
def test_k4_lid_vector_is_our_key_id(vector: dict[str, Any]) -> None:
    paserk = "k4.local." + b64url_encode(key_bytes(vector))
    assert PasetoV4Local.key_id_of(paserk, source=vector["name"]) == vector["paserk"]
    assert paserk_id("k4.lid.", paserk) == vector["paserk"]


@pytest.mark.parametrize("vector", vectors("k4.lid", fail=True), ids=ids(vectors("k4.lid", fail=True)))
def test_k4_lid_of_a_short_key_is_refused(vector: dict[str, Any]) -> None:
    with pytest.raises(KeyConfigError, match="must be exactly 32"):
        PasetoV4Local.key_id_of("k4.local." + b64url_encode(key_bytes(vector)), source=vector["name"])


# --- k4.public / k4.pid --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "vector", vectors("k4.public", fail=False), ids=ids(vectors("k4.public", fail=False))
)
def test_k4_public_vector_loads_as_a_verify_only_key(vector: dict[str, Any]) -> None:
    _, key = PasetoV4Public.parse_key(vector["paserk"], source=vector["name"])
    assert (key.public, key.secret) == (key_bytes(vector), None)
    assert key.public_paserk == vector["paserk"]


@pytest.mark.parametrize("vector", vectors("k4.public", fail=True), ids=ids(vectors("k4.public", fail=True)))
def test_k4_public_must_fail_vector_is_refused(vector: dict[str, Any]) -> None:
    # The key is a 49-byte compressed P-384 point (a v3 public key) written as k4.public.
    with pytest.raises(KeyConfigError, match="must be exactly 32"):
        PasetoV4Public.parse_key("k4.public." + b64url_encode(key_bytes(vector)), source=vector["name"])


@pytest.mark.parametrize("vector", vectors("k4.pid", fail=False), ids=ids(vectors("k4.pid", fail=False)))
def test_k4_pid_vector_is_our_key_id(vector: dict[str, Any]) -> None:
    paserk = "k4.public." + b64url_encode(key_bytes(vector))
    assert PasetoV4Public.key_id_of(paserk, source=vector["name"]) == vector["paserk"]
    assert paserk_id("k4.pid.", paserk) == vector["paserk"]


@pytest.mark.parametrize("vector", vectors("k4.pid", fail=True), ids=ids(vectors("k4.pid", fail=True)))
def test_k4_pid_of_a_wrong_length_key_is_refused(vector: dict[str, Any]) -> None:
    with pytest.raises(KeyConfigError, match="must be exactly 32"):
        PasetoV4Public.key_id_of("k4.public." + b64url_encode(key_bytes(vector)), source=vector["name"])


# --- k4.secret / k4.sid --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "vector", vectors("k4.secret", fail=False), ids=ids(vectors("k4.secret", fail=False))
)
def test_k4_secret_vector_loads_to_its_key_pair(vector: dict[str, Any]) -> None:
    kid, key = PasetoV4Public.parse_key(vector["paserk"], source=vector["name"])
    assert key.secret == key_bytes(vector)
    assert key.public == bytes.fromhex(vector["public-key"])
    assert key.secret[:32] == bytes.fromhex(vector["secret-key-seed"])
    assert kid == paserk_id("k4.pid.", key.public_paserk)  # the id of a key pair is that of its public key


@pytest.mark.parametrize("vector", vectors("k4.secret", fail=True), ids=ids(vectors("k4.secret", fail=True)))
def test_k4_secret_must_fail_vector_is_refused(vector: dict[str, Any]) -> None:
    # fail-1: 31 bytes; fail-2: 48 bytes (a P-384 scalar, i.e. a v3 secret key) with a PEM public key.
    source = f"keys/{vector['name']}.paserk"
    with pytest.raises(KeyConfigError, match="must be exactly 64") as refused:
        PasetoV4Public.parse_key("k4.secret." + b64url_encode(key_bytes(vector)), source=source)
    assert source in str(refused.value)


@pytest.mark.parametrize("vector", vectors("k4.sid", fail=False), ids=ids(vectors("k4.sid", fail=False)))
def test_k4_sid_vector_is_our_secret_key_id(vector: dict[str, Any]) -> None:
    paserk = "k4.secret." + b64url_encode(key_bytes(vector))
    PasetoV4Public.parse_key(paserk, source=vector["name"])  # a usable key
    assert paserk_id("k4.sid.", paserk) == vector["paserk"]


@pytest.mark.parametrize("vector", vectors("k4.sid", fail=True), ids=ids(vectors("k4.sid", fail=True)))
def test_k4_sid_of_a_wrong_length_key_is_refused(vector: dict[str, Any]) -> None:
    with pytest.raises(KeyConfigError, match="must be exactly 64"):
        PasetoV4Public.key_id_of("k4.secret." + b64url_encode(key_bytes(vector)), source=vector["name"])


# --- wrapped, password-protected and sealed keys: not key files tokenbench reads -----------------------

PROTECTED_VECTORS = [
    (kind, v) for kind in PROTECTED for v in vectors(kind, fail=False) + vectors(kind, fail=True)
]


@pytest.mark.parametrize(("kind", "vector"), PROTECTED_VECTORS, ids=[v["name"] for _, v in PROTECTED_VECTORS])
def test_protected_paserk_is_refused_by_both_loaders_with_a_clear_message(
    kind: str, vector: dict[str, Any]
) -> None:
    source = f"keys/{vector['name']}.paserk"
    found = ".".join(vector["paserk"].split(".")[:2])
    for loader in (PasetoV4Local, PasetoV4Public):
        with pytest.raises(KeyConfigError) as refused:
            loader.parse_key(vector["paserk"], source=source)
        message = str(refused.value)
        assert source in message
        assert repr(found) in message  # what was found, e.g. 'k4.local-pw'
        assert "tokenbench keys generate" in message
