"""RFC 7515 Appendix A (``tests/vectors/jose/rfc7515/appendix_a.json``, transcribed from the RFC; see the
README there) and RFC 8037 Appendix A (``jose/rfc8037/appendix_a.json`` for the keys and thumbprint,
``jose/curve25519/jws.json`` for the A.4 signature) through the signature checks the JWT formats use.

A.1 (HS256) and A.3 (ES256) verify with ``JwtHs256._check_signature`` / ``JwtEs256._check_signature`` and
their keys loaded by our JWK loaders; as whole tokens they are still refused by the formats, whose header
must be exactly ``{alg, kid, typ}``. A.5 (``alg: none``) is refused however its header is dressed up.
RFC 8037: the A.1 key loads and derives A.2, its A.3 thumbprint is what our key ids are, A.4's signature is
what our signers produce, and A.5 (verification) passes through ``JwtEdDsa._check_signature``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from formats import FORMATS, FormatName, Kind, TokenBadSignature, TokenMalformed, forge
from formats._codec import b64url_decode, b64url_encode
from formats._jwt_common import jwk_thumbprint, thumbprint_of
from formats.jwt_eddsa import JwtEdDsa
from formats.jwt_es256 import JwtEs256
from formats.jwt_hs256 import JwtHs256

APPENDIX_A: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "vectors" / "jose" / "rfc7515" / "appendix_a.json").read_text(
        encoding="utf-8"
    )
)
A1, A3, A5 = APPENDIX_A["tests"]


def split(compact: str) -> tuple[bytes, bytes]:
    """Signing input and signature bytes of a compact JWS."""
    signing_input, _, signature = compact.rpartition(".")
    return signing_input.encode("ascii"), b64url_decode(signature)


def with_kid(jwk: dict[str, str]) -> str:
    return json.dumps({**jwk, "kid": thumbprint_of(jwk)})


def test_appendix_a_file_holds_a1_a3_a5() -> None:
    assert [(t["alg"], t["expect-valid"]) for t in APPENDIX_A["tests"]] == [
        ("HS256", True),
        ("ES256", True),
        ("none", False),
    ]
    for test in APPENDIX_A["tests"]:
        header, payload, _ = test["compact"].split(".")
        assert b64url_decode(header).decode() == test["protected_header_utf8"]
        assert b64url_decode(payload).decode() == APPENDIX_A["payload_utf8"]


def test_rfc7515_a1_hs256_signature_verifies_with_the_hs256_check() -> None:
    fmt = JwtHs256.from_key_texts([("rfc7515-a1", with_kid(A1["jwk"]))])
    _, secret = JwtHs256.parse_key(with_kid(A1["jwk"]), source="rfc7515-a1")
    signing_input, signature = split(A1["compact"])
    fmt._check_signature(secret, signing_input, signature)
    with pytest.raises(TokenBadSignature):
        fmt._check_signature(secret, signing_input + b" ", signature)
    with pytest.raises(TokenBadSignature):
        fmt._check_signature(secret, signing_input, signature[:-1] + bytes([signature[-1] ^ 1]))


def test_rfc7515_a3_es256_signature_verifies_with_the_es256_check() -> None:
    fmt = JwtEs256.from_key_texts([("rfc7515-a3", with_kid(A3["jwk"]))])
    _, private = JwtEs256.parse_key(with_kid(A3["jwk"]), source="rfc7515-a3")
    public_only = {k: v for k, v in A3["jwk"].items() if k != "d"}
    _, public = JwtEs256.parse_key(with_kid(public_only), source="rfc7515-a3")
    signing_input, signature = split(A3["compact"])
    assert len(signature) == 64  # r || s, the JWS (P1363) encoding
    fmt._check_signature(public, signing_input, signature)
    fmt._check_signature(private.public_key(), signing_input, signature)
    with pytest.raises(TokenBadSignature):
        fmt._check_signature(public, signing_input + b" ", signature)


@pytest.mark.parametrize(("vector", "name"), [(A1, FormatName.JWT_HS256), (A3, FormatName.JWT_ES256)])
def test_rfc7515_token_is_refused_as_a_whole_because_its_header_lacks_kid_and_typ(
    vector: dict[str, Any], name: FormatName
) -> None:
    fmt = FORMATS[name].from_key_texts([("rfc7515", with_kid(vector["jwk"]))])
    with pytest.raises(TokenMalformed, match="alg, kid and typ"):
        fmt.verify(vector["compact"], kind=Kind.ACCESS)


@pytest.mark.parametrize("name", [FormatName.JWT_HS256, FormatName.JWT_ES256, FormatName.JWT_EDDSA])
def test_rfc7515_a5_alg_none_is_refused_as_is_and_dressed_with_our_kid_and_typ(name: FormatName) -> None:
    fmt = FORMATS[name].ephemeral()
    with pytest.raises(TokenMalformed):
        fmt.verify(A5["compact"], kind=Kind.ACCESS)
    _, payload, _ = A5["compact"].split(".")
    for alg in ("none", "None", "NONE"):
        header = {"alg": alg, "kid": fmt.active_kid, "typ": "at+jwt"}
        for signature in ("", b64url_encode(b"\x00" * 32)):
            token = f"{b64url_encode(forge.json_bytes(header))}.{payload}.{signature}"
            with pytest.raises(TokenMalformed, match="alg must be"):
                fmt.verify(token, kind=Kind.ACCESS)


# --- RFC 8037 (Ed25519, jwt-eddsa) -----------------------------------------------------------------------

VECTORS = Path(__file__).parents[1] / "vectors" / "jose"
RFC8037: dict[str, Any] = json.loads((VECTORS / "rfc8037" / "appendix_a.json").read_text(encoding="utf-8"))
RFC8037_A4: dict[str, Any] = json.loads((VECTORS / "curve25519" / "jws.json").read_text(encoding="utf-8"))


def test_rfc8037_a1_private_key_loads_and_derives_the_a2_public_key() -> None:
    _, private = JwtEdDsa.parse_key(with_kid(RFC8037["private_jwk"]), source="rfc8037-a1")
    _, public = JwtEdDsa.parse_key(with_kid(RFC8037["public_jwk"]), source="rfc8037-a2")
    assert private.public == public.public == b64url_decode(RFC8037["public_jwk"]["x"])
    assert private.seed == b64url_decode(RFC8037["private_jwk"]["d"])
    assert RFC8037_A4["input"]["key"] | {"use": "sig"} == RFC8037["private_jwk"] | {"use": "sig"}


def test_rfc8037_a3_thumbprint_is_the_key_id_our_jwk_thumbprint_computes() -> None:
    members = {m: RFC8037["public_jwk"][m] for m in ("crv", "kty", "x")}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True)
    assert canonical == RFC8037["thumbprint_input"]
    assert hashlib.sha256(canonical.encode()).hexdigest() == RFC8037["thumbprint_sha256_hex"]
    assert jwk_thumbprint(members) == RFC8037["thumbprint"]
    fmt = JwtEdDsa.from_key_texts([("rfc8037", with_kid(RFC8037["private_jwk"]))])
    published = fmt.well_known()["jwks.json"]["keys"][0]
    assert jwk_thumbprint({m: published[m] for m in ("crv", "kty", "x")}) == RFC8037["thumbprint"]


def test_rfc8037_a4_signature_is_what_our_signers_produce_byte_for_byte() -> None:
    # Ed25519 is deterministic: the signer pyjwt issues with and forge's signer reproduce A.4 exactly.
    signing_input = RFC8037_A4["signing"]["sig-input"].encode("ascii")
    expected = b64url_decode(RFC8037_A4["signing"]["sig"])
    fmt = JwtEdDsa.from_key_texts([("rfc8037", with_kid(RFC8037["private_jwk"]))])
    assert fmt._signing_key().sign(signing_input) == expected
    assert forge.ed25519_signer(b64url_decode(RFC8037["private_jwk"]["d"]))(signing_input) == expected
    assert (
        RFC8037_A4["output"]["compact"]
        == f"{RFC8037_A4['signing']['sig-input']}.{RFC8037_A4['signing']['sig']}"
    )


def test_rfc8037_a5_signature_verifies_with_the_eddsa_check_and_nothing_else_does() -> None:
    fmt = JwtEdDsa.from_key_texts([("rfc8037", with_kid(RFC8037["private_jwk"]))])
    _, public = JwtEdDsa.parse_key(with_kid(RFC8037["public_jwk"]), source="rfc8037-a2")
    signing_input, signature = split(RFC8037_A4["output"]["compact"])
    assert len(signature) == 64
    fmt._check_signature(public.public, signing_input, signature)
    for bad_input, bad_signature in (
        (signing_input + b" ", signature),
        (signing_input, signature[:-1] + bytes([signature[-1] ^ 1])),
        (signing_input, signature[:63]),
        (signing_input, signature + b"\x00"),
    ):
        with pytest.raises(TokenBadSignature):
            fmt._check_signature(public.public, bad_input, bad_signature)


def test_rfc8037_a4_token_is_refused_as_a_whole_because_its_header_lacks_kid_and_typ() -> None:
    fmt = JwtEdDsa.from_key_texts([("rfc8037", with_kid(RFC8037["private_jwk"]))])
    with pytest.raises(TokenMalformed, match="alg, kid and typ"):
        fmt.verify(RFC8037_A4["output"]["compact"], kind=Kind.ACCESS)
