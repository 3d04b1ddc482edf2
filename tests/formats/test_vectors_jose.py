"""RFC 7515 Appendix A (``tests/vectors/jose/rfc7515/appendix_a.json``, transcribed from the RFC; see the
README there) through the signature checks the JWT formats use.

A.1 (HS256) and A.3 (ES256) verify with ``JwtHs256._check_signature`` / ``JwtEs256._check_signature`` and
their keys loaded by our JWK loaders; as whole tokens they are still refused by the formats, whose header
must be exactly ``{alg, kid, typ}``. A.5 (``alg: none``) is refused however its header is dressed up.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from formats import FORMATS, FormatName, Kind, TokenBadSignature, TokenMalformed, forge
from formats._codec import b64url_decode, b64url_encode
from formats._jwt_common import thumbprint_of
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


@pytest.mark.parametrize("name", [FormatName.JWT_HS256, FormatName.JWT_ES256])
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
