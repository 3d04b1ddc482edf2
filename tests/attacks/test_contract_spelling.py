"""The attack suite spells the contract's strings itself (``service/attacks/contract.py``); here each is
compared with what ``formats`` uses, so a drift names the string instead of failing a hundred attacks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from formats import (
    FORMATS,
    Claims,
    FormatName,
    Kind,
    TokenBadSignature,
    TokenClaimsInvalid,
    TokenExpired,
    TokenMalformed,
    TokenNotYetValid,
    TokenRevoked,
    TokenUnknownKey,
    TokenWrongKind,
    ephemeral,
)
from formats._jwt_common import JWT_TYP, thumbprint_of
from formats._paseto_common import IMPLICIT_ASSERTION, footer_for, paserk_id
from formats.migration import token_label
from service.attacks import attacker, contract


def test_failure_codes_are_the_error_trees() -> None:
    spelled = {
        contract.MALFORMED: TokenMalformed,
        contract.BAD_SIGNATURE: TokenBadSignature,
        contract.EXPIRED: TokenExpired,
        contract.NOT_YET_VALID: TokenNotYetValid,
        contract.WRONG_KIND: TokenWrongKind,
        contract.UNKNOWN_KEY: TokenUnknownKey,
        contract.CLAIMS_INVALID: TokenClaimsInvalid,
        contract.REVOKED: TokenRevoked,
    }
    assert {code: error.code for code, error in spelled.items()} == {code: code for code in spelled}


def test_kind_bindings_and_footer_are_the_formats() -> None:
    assert dict(contract.JWT_TYP) == dict(JWT_TYP)
    assert dict(contract.IMPLICIT_ASSERTION) == dict(IMPLICIT_ASSERTION)
    assert contract.footer_for("k4.pid.abc") == footer_for("k4.pid.abc")


@pytest.mark.parametrize("name", list(FormatName))
def test_labels_are_the_formats(name: FormatName) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    claims = Claims(sub="x", role="user", iat=now, exp=now + timedelta(minutes=5), jti="j")
    token = ephemeral(name).issue(claims, kind=Kind.ACCESS)
    assert contract.LABEL[name] == FORMATS[name].token_label
    assert contract.label_of(token) == token_label(token) == contract.LABEL[name]


def test_key_ids_are_the_formats() -> None:
    secret, paserk, pid = attacker.ed25519_keypair()
    assert pid == paserk_id("k4.pid.", paserk) == contract.paserk_id("k4.pid.", paserk)
    _, local, lid = attacker.local_key()
    assert lid == paserk_id("k4.lid.", local)
    jwk = attacker.okp_jwk(secret, kid="", private=False)
    assert contract.jwk_thumbprint(jwk) == thumbprint_of(jwk)
    oct_jwk = {"kty": "oct", "k": "c2VjcmV0"}
    assert contract.jwk_thumbprint(oct_jwk) == thumbprint_of(oct_jwk)
    incomplete = {"kty": "EC", "crv": "P-256"}
    assert contract.jwk_thumbprint(incomplete) is thumbprint_of(incomplete) is None
