"""Wycheproof (C2SP/wycheproof ``testvectors_v1``; see ``tests/vectors/README.md``) through the exact
signature checks the formats verify with.

* ``ecdsa_secp256r1_sha256_p1363_test.json``: ECDSA P-256 / SHA-256 with ``r || s`` signatures, the JWS
  encoding. Each group's public key is written as a P-256 JWK and loaded by ``JwtEs256.parse_key`` (the
  ES256 key loader); each signature goes through ``JwtEs256._check_signature`` (the ES256 verify).
* ``ed25519_test.json``: Ed25519, the primitive of both ``paseto-v4-public`` and ``jwt-eddsa``. Each public
  key is loaded as a ``k4.public`` PASERK by ``PasetoV4Public.parse_key`` and each signature goes through
  ``formats._ed25519.ed25519_verify`` (what v4.public's ``verify_signature`` calls); the same key is loaded
  as an ``OKP`` JWK by ``JwtEdDsa.parse_key`` and the signature goes through ``JwtEdDsa._check_signature``.

Every vector behaves as labelled: no ``acceptable`` results occur in these files, and libsodium (PyNaCl)
agrees with every Ed25519 label, including the non-canonical R/S, small-order and truncated-signature
cases (88 valid, 63 invalid), so no tcId needs an exception.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from formats import TokenBadSignature
from formats._codec import b64url_encode
from formats._ed25519 import ed25519_verify
from formats._jwt_common import thumbprint_of
from formats.jwt_eddsa import JwtEdDsa
from formats.jwt_es256 import JwtEs256
from formats.paseto_v4_public import PasetoV4Public

WYCHEPROOF = Path(__file__).parents[1] / "vectors" / "wycheproof"


def cases(filename: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    data = json.loads((WYCHEPROOF / filename).read_text(encoding="utf-8"))
    return [(group, test) for group in data["testGroups"] for test in group["tests"]]


ECDSA = cases("ecdsa_secp256r1_sha256_p1363_test.json")
EDDSA = cases("ed25519_test.json")


def tc_ids(pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> list[str]:
    return [f"tcId-{test['tcId']}" for _, test in pairs]


def test_every_wycheproof_vector_is_labelled_valid_or_invalid() -> None:
    ecdsa = [t["result"] for _, t in ECDSA]
    eddsa = [t["result"] for _, t in EDDSA]
    assert (len(ecdsa), ecdsa.count("valid"), ecdsa.count("invalid")) == (262, 173, 89)
    assert (len(eddsa), eddsa.count("valid"), eddsa.count("invalid")) == (151, 88, 63)


def p256_jwk(public_key: dict[str, Any]) -> str:
    assert public_key["curve"] == "secp256r1"
    x, y = (int(public_key[c], 16).to_bytes(32, "big") for c in ("wx", "wy"))
    jwk = {"kty": "EC", "crv": "P-256", "x": b64url_encode(x), "y": b64url_encode(y)}
    return json.dumps({**jwk, "kid": thumbprint_of(jwk)})


@pytest.fixture(scope="module")
def es256() -> JwtEs256:
    return JwtEs256.ephemeral()


@pytest.mark.parametrize(("group", "test"), ECDSA, ids=tc_ids(ECDSA))
def test_wycheproof_es256_p1363_vector_verifies_as_labelled(
    es256: JwtEs256, group: dict[str, Any], test: dict[str, Any]
) -> None:
    _, key = JwtEs256.parse_key(p256_jwk(group["publicKey"]), source=f"tcId {test['tcId']}")
    message, signature = bytes.fromhex(test["msg"]), bytes.fromhex(test["sig"])
    if test["result"] == "valid":
        es256._check_signature(key, message, signature)
    else:
        with pytest.raises(TokenBadSignature):
            es256._check_signature(key, message, signature)


@pytest.mark.parametrize(("group", "test"), EDDSA, ids=tc_ids(EDDSA))
def test_wycheproof_ed25519_vector_verifies_as_labelled(group: dict[str, Any], test: dict[str, Any]) -> None:
    paserk = "k4.public." + b64url_encode(bytes.fromhex(group["publicKey"]["pk"]))
    _, key = PasetoV4Public.parse_key(paserk, source=f"tcId {test['tcId']}")
    message, signature = bytes.fromhex(test["msg"]), bytes.fromhex(test["sig"])
    assert ed25519_verify(key.public, message, signature) is (test["result"] == "valid")


@pytest.fixture(scope="module")
def eddsa() -> JwtEdDsa:
    return JwtEdDsa.ephemeral()


@pytest.mark.parametrize(("group", "test"), EDDSA, ids=tc_ids(EDDSA))
def test_wycheproof_ed25519_vector_verifies_as_labelled_through_the_jwt_eddsa_check(
    eddsa: JwtEdDsa, group: dict[str, Any], test: dict[str, Any]
) -> None:
    x = b64url_encode(bytes.fromhex(group["publicKey"]["pk"]))
    members = {"kty": "OKP", "crv": "Ed25519", "x": x}
    jwk = json.dumps({**members, "kid": thumbprint_of(members)})
    _, key = JwtEdDsa.parse_key(jwk, source=f"tcId {test['tcId']}")
    message, signature = bytes.fromhex(test["msg"]), bytes.fromhex(test["sig"])
    if test["result"] == "valid":
        eddsa._check_signature(key.public, message, signature)
    else:
        with pytest.raises(TokenBadSignature):
            eddsa._check_signature(key.public, message, signature)
