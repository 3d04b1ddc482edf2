"""formats.forge builds tokens byte-exactly: what it forges with a format's own key verifies there."""

from __future__ import annotations

import ast
import doctest
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyseto
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from formats import FORMATS, Claims, FormatName, Kind, TokenBadSignature, TokenFormat, forge
from formats._jwt_common import JWT_TYP
from formats._paseto_common import IMPLICIT_ASSERTION, footer_for

FORMATS_DIR = Path(forge.__file__).parent


def ring(name: FormatName, policy: object, clock: Any) -> tuple[TokenFormat, str]:
    text = FORMATS[name].generate_key_text()
    fmt = FORMATS[name].from_key_texts([("test", text)], policy=policy, clock=clock)  # type: ignore[arg-type]
    return fmt, text


def forge_like_issue(name: FormatName, text: str, kid: str, claims: Claims, kind: Kind) -> str:
    """Forge with the format's own conventions (header/footer/implicit assertion) and key."""
    if name is FormatName.JWT_HS256:
        header = {"alg": "HS256", "kid": kid, "typ": JWT_TYP[kind]}
        return forge.jws(header, forge.jwt_payload(claims), sign=forge.hmac_signer(forge.jwk_secret(text)))
    if name is FormatName.JWT_ES256:
        header = {"alg": "ES256", "kid": kid, "typ": JWT_TYP[kind]}
        signer = forge.ecdsa_signer(forge.jwk_ec_private_key(text))
        return forge.jws(header, forge.jwt_payload(claims), sign=signer)
    if name is FormatName.JWT_EDDSA:
        header = {"alg": "EdDSA", "kid": kid, "typ": JWT_TYP[kind]}
        signer = forge.ed25519_signer(forge.jwk_okp_seed(text))
        return forge.jws(header, forge.jwt_payload(claims), sign=signer)
    footer = footer_for(kid)
    payload = forge.paseto_payload(claims)
    if name is FormatName.PASETO_V4_LOCAL:
        key = forge.paserk_bytes(text)
        return forge.v4_local(key, payload, footer=footer, implicit=IMPLICIT_ASSERTION[kind])
    secret = forge.paserk_bytes(text)
    return forge.v4_public(secret, payload, footer=footer, implicit=IMPLICIT_ASSERTION[kind])


@pytest.mark.parametrize("kind", list(Kind))
def test_token_forged_with_the_formats_key_and_conventions_verifies(
    format_name: FormatName, policy: object, clock: Any, make_claims: Callable[..., Claims], kind: Kind
) -> None:
    fmt, text = ring(format_name, policy, clock)
    extra = {"fam": "fam-1", "ver": 3} if kind is Kind.REFRESH else {}
    claims = make_claims(**extra)
    token = forge_like_issue(format_name, text, fmt.active_kid, claims, kind)
    assert fmt.verify(token, kind=kind) == claims


def test_forged_payload_is_byte_for_byte_what_the_format_issues(
    format_name: FormatName, policy: object, clock: Any, make_claims: Callable[..., Claims]
) -> None:
    fmt, text = ring(format_name, policy, clock)
    claims = make_claims()
    issued = fmt.issue(claims, kind=Kind.ACCESS)
    forged = forge_like_issue(format_name, text, fmt.active_kid, claims, Kind.ACCESS)
    if format_name is FormatName.PASETO_V4_LOCAL:
        key = forge.paserk_bytes(text)
        assert forge.v4_local_open(key, issued) == forge.v4_local_open(key, forged)
    elif format_name is FormatName.PASETO_V4_PUBLIC:
        assert forge.paseto_split(issued) == forge.paseto_split(forged)  # Ed25519 is deterministic
    else:
        assert forge.jws_split(issued)[:2] == forge.jws_split(forged)[:2]


def test_one_flipped_byte_in_a_forged_token_fails_authentication(
    format_name: FormatName, policy: object, clock: Any, make_claims: Callable[..., Claims]
) -> None:
    fmt, text = ring(format_name, policy, clock)
    token = forge_like_issue(format_name, text, fmt.active_kid, make_claims(), Kind.ACCESS)
    if format_name.value.startswith("jwt"):
        header, payload, signature = forge.jws_split(token)
        tampered = forge.jws(header, payload, signature=bytes([signature[0] ^ 1]) + signature[1:])
    else:
        header_text, body, footer = forge.paseto_split(token)
        tampered = forge.paseto(header_text, body[:-1] + bytes([body[-1] ^ 1]), footer)
    with pytest.raises(TokenBadSignature):
        fmt.verify(tampered, kind=Kind.ACCESS)


def test_v4_tokens_forged_here_are_read_by_pyseto() -> None:
    local_key, seed = bytes(range(32)), bytes(range(32, 64))
    local = forge.v4_local(local_key, {"a": 1}, footer=b"f", implicit=b"i")
    decoded = pyseto.decode(pyseto.Key.new(4, "local", local_key), local, implicit_assertion=b"i")
    assert (decoded.payload, decoded.footer) == (b'{"a":1}', b"f")

    secret = forge.ed25519_secret(seed)
    public_key = pyseto.Key.from_paserk("k4.public." + forge.b64u(secret[32:]))
    public = forge.v4_public(seed, {"b": 2}, footer={"kid": "x"}, implicit=b"i")
    assert pyseto.decode(public_key, public, implicit_assertion=b"i").payload == b'{"b":2}'

    v2_key = pyseto.Key.from_paserk("k2.public." + forge.b64u(secret[32:]))
    assert pyseto.decode(v2_key, forge.v2_public(seed, {"c": 3})).payload == b'{"c":3}'


def test_fixed_nonce_reuses_the_keystream() -> None:
    key, nonce = bytes(32), bytes(32)
    one, two = b'{"role":"user"}', b'{"role":"boss"}'
    c1 = forge.paseto_split(forge.v4_local(key, one, nonce=nonce))[1][32:-32]
    c2 = forge.paseto_split(forge.v4_local(key, two, nonce=nonce))[1][32:-32]
    assert bytes(a ^ b ^ p for a, b, p in zip(c1, c2, one, strict=True)) == two


def test_ecdsa_signer_uses_the_curve_size_of_any_key() -> None:
    sign = forge.ecdsa_signer(ec.generate_private_key(ec.SECP384R1()))
    assert len(sign(b"x")) == 96


def test_forge_doctest_runs() -> None:
    failures, tried = doctest.testmod(forge, raise_on_error=False, verbose=False)
    assert (failures, tried > 0) == (0, True)


def test_no_format_module_imports_forge() -> None:
    for path in FORMATS_DIR.glob("*.py"):
        if path.name == "forge.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        } | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
        assert not {"forge", "formats.forge"} & imported, f"{path.name} imports formats.forge"
