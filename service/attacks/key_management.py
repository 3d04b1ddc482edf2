"""Catalog section "Key management": weak, empty, mis-sized, mistyped and shared keys; nonce reuse.

Most rows here are start-up attacks: the service is started with the bad key file in its key directory and
must refuse, with a message naming the file and the fix. The bare-library column asks the same of the
library: is it willing to sign and verify with that key?
"""

from __future__ import annotations

import ast
import json
import secrets
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Final

import jwt
import pyseto
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import formats
import service
from formats import FormatName, forge
from service.attacks import attacker
from service.attacks.context import Context
from service.attacks.contract import jwk_thumbprint
from service.attacks.model import (
    EDDSA,
    HS256,
    LOCAL,
    PUBLIC,
    STARTUP,
    Applicability,
    Attack,
    Expect,
    LibraryObservation,
    Observation,
    Outcome,
    Section,
    StartupCase,
    Verdict,
    deployment,
    row,
)

__all__ = [
    "ATTACKS",
    "hs256_key_file",
    "library_hmac_key",
    "library_local_key",
    "paserk_file",
]

ACCEPTS: Final = Verdict.ACCEPTS
REJECTS: Final = Verdict.REJECTS
ASYMMETRIC: Final = "an asymmetric key is generated, never chosen: there is no secret to guess or leave empty"


ONE_ED25519_KEY: Final = Applicability(
    Expect.STARTUP, "one Ed25519 key can be both the jwt-eddsa and the paseto-v4-public key: refused"
)


def hs256_key_file(secret: bytes) -> str:
    """An ``oct`` JWK key file holding ``secret`` (however weak).

    Its kid is its thumbprint, like a generated key's, so what the service refuses is the secret itself.
    """
    jwk = {"kty": "oct", "k": forge.b64u(secret)}
    return json.dumps({**jwk, "alg": "HS256", "kid": jwk_thumbprint(jwk)})


def paserk_file(prefix: str, key: bytes) -> str:
    """A PASERK key file ``prefix`` + base64url(``key``) (however wrong its length or type)."""
    return prefix + forge.b64u(key)


def library_hmac_key(secret: bytes) -> object:
    """Pyjwt's ordinary call with ``secret`` as the HS256 key, on a token MACed with it."""
    token = forge.jws({"alg": "HS256", "typ": "JWT"}, {"sub": "x"}, sign=forge.hmac_signer(secret))
    return jwt.decode(token, secret, algorithms=["HS256"])


def library_local_key(key: bytes) -> object:
    """Pyseto's ordinary call with ``key`` as the v4.local key, on a token encrypted with it."""
    pyseto_key = pyseto.Key.new(4, "local", key)
    token = pyseto.encode(pyseto_key, b'{"sub":"x"}')
    return pyseto.decode(pyseto_key, token, deserializer=json)


def _library_eddsa_key(secret_key: bytes) -> object:
    """Pyjwt's ordinary EdDSA call with the Ed25519 key of ``secret_key`` (seed || public)."""
    private = Ed25519PrivateKey.from_private_bytes(secret_key[:32])
    token = jwt.encode({"sub": "x"}, private, algorithm="EdDSA")
    return jwt.decode(token, private.public_key(), algorithms=["EdDSA"])


def _library_paserk(text: str) -> object:
    """Pyseto given ``text`` as a PASERK: does it sign (or encrypt) and verify (or decrypt) with it?"""
    key = pyseto.Key.from_paserk(text)
    return pyseto.decode(key, pyseto.encode(key, b'{"sub":"x"}'), deserializer=json)


# --- WEAK-SYMMETRIC-KEY, EMPTY-SYMMETRIC-KEY ---------------------------------------------------------

WEAK_HS256: Final = (b"your-256-bit-secret", b"my-super-secret-key-for-jwt-2024!")
WEAK_LOCAL: Final = (b"our-secret", b"correct horse battery staple 32!")


def weak_key(name: FormatName) -> Iterator[StartupCase]:
    """Guessable secrets: jwt.io's example, a 33-byte phrase, pyseto's README key, a 32-byte phrase."""
    if name is HS256:
        for secret in WEAK_HS256:
            yield StartupCase(
                f"HS256 secret {secret.decode()!r} ({len(secret)} bytes)",
                HS256,
                files={"jwt-hs256/weak.jwk": hs256_key_file(secret)},
                library=partial(library_hmac_key, secret),
                library_expect=ACCEPTS,
            )
    elif name is LOCAL:
        for secret in WEAK_LOCAL:
            yield StartupCase(
                f"k4.local key {secret.decode()!r} ({len(secret)} bytes)",
                LOCAL,
                files={"paseto-v4-local/weak.paserk": paserk_file("k4.local.", secret)},
                library=partial(library_local_key, secret),
                library_expect=ACCEPTS,
            )


def empty_key(name: FormatName) -> Iterator[StartupCase]:
    """An empty secret (an unset variable), and an empty key file."""
    if name is HS256:
        yield StartupCase(
            'HS256 JWK with "k": ""',
            HS256,
            files={"jwt-hs256/empty.jwk": hs256_key_file(b"")},
            library=lambda: library_hmac_key(b""),
            library_expect=REJECTS,
        )
        yield StartupCase("empty key file", HS256, files={"jwt-hs256/empty.jwk": ""})
    elif name is LOCAL:
        yield StartupCase(
            'PASERK "k4.local." with no key bytes',
            LOCAL,
            files={"paseto-v4-local/empty.paserk": "k4.local."},
            library=lambda: library_local_key(b""),
            library_expect=REJECTS,
        )
        yield StartupCase("empty key file", LOCAL, files={"paseto-v4-local/empty.paserk": ""})


# --- PASETO-KEY-LENGTH -------------------------------------------------------------------------------


def key_length(name: FormatName) -> Iterator[StartupCase]:
    """v4.local keys of 1..64 bytes but not 32; k4.secret and k4.public of the wrong length."""
    if name is LOCAL:
        for size in (1, 10, 16, 31, 33, 64):
            key = secrets.token_bytes(size)
            yield StartupCase(
                f"k4.local key of {size} bytes",
                LOCAL,
                files={"paseto-v4-local/short.paserk": paserk_file("k4.local.", key)},
                library=partial(library_local_key, key),
                library_expect=ACCEPTS,
            )
    elif name is PUBLIC:
        secret = attacker.ed25519_keypair()[0]
        long_text = paserk_file("k4.secret.", secret + secrets.token_bytes(3))
        yield StartupCase(
            "k4.secret of 67 bytes",
            PUBLIC,
            files={"paseto-v4-public/long.paserk": long_text},
            library=lambda: _library_paserk(long_text),
            library_expect=ACCEPTS,
        )
        seed_text = paserk_file("k4.secret.", secret[:32])
        yield StartupCase(
            "k4.secret of 32 bytes (seed only)",
            PUBLIC,
            files={"paseto-v4-public/seed.paserk": seed_text},
            library=lambda: _library_paserk(seed_text),
            library_expect=ACCEPTS,
        )
        short_text = paserk_file("k4.public.", secrets.token_bytes(31))
        yield StartupCase(
            "verify-only k4.public of 31 bytes next to a valid key",
            PUBLIC,
            files={"paseto-v4-public/0-short.paserk": short_text},
            with_valid_key=True,
            library=lambda: pyseto.Key.from_paserk(short_text),
            library_expect=REJECTS,
        )


# --- PASETO-PASERK-TYPE-CONFUSION --------------------------------------------------------------------


def paserk_type(name: FormatName) -> Iterator[StartupCase]:
    """A PASERK of another version or purpose where this format's key belongs."""
    secret = attacker.ed25519_keypair()[0]
    local = secrets.token_bytes(32)
    if name is LOCAL:
        wrong = {
            "k4.public (a public key)": paserk_file("k4.public.", secret[32:]),
            "k4.secret (a signing key)": paserk_file("k4.secret.", secret),
            "k3.local (another version)": paserk_file("k3.local.", local),
        }
        accepted_by = "local"
    elif name is PUBLIC:
        wrong = {
            "k4.local (a symmetric key)": paserk_file("k4.local.", local),
            "k2.secret (another version)": paserk_file("k2.secret.", secret),
        }
        accepted_by = "public"
    else:
        return
    for label, text in wrong.items():
        yield StartupCase(
            f"{label} in the {name.value} key directory",
            name,
            files={f"{name.value}/wrong.paserk": text},
            library=partial(_library_decode_v4, text, accepted_by),
            library_expect=REJECTS,
        )


def _library_decode_v4(text: str, purpose: str) -> object:
    """Pyseto with the mistyped PASERK as its key, on a genuine v4.<purpose> token."""
    key = pyseto.Key.from_paserk(text)
    if purpose == "local":
        token = forge.v4_local(secrets.token_bytes(32), b'{"sub":"x"}')
    else:
        token = forge.v4_public(attacker.ed25519_keypair()[0], b'{"sub":"x"}')
    return pyseto.decode(key, token, deserializer=json)


# --- PASETO-NONCE-MISUSE -----------------------------------------------------------------------------


def _encodes_with_nonce(path: Path) -> bool:
    """Whether the module calls an ``encode`` (pyseto's token issuing) with a ``nonce=`` argument."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not any(k.arg == "nonce" for k in node.keywords):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name == "encode":
            return True
    return False


def issuing_code_with_nonce() -> list[str]:
    """Modules of ``formats`` and ``service`` (except forge and the attack suite) issuing with a nonce."""
    roots = (Path(formats.__file__).parent, Path(service.__file__).parent)
    found = []
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            if path.name == "forge.py" or "attacks" in path.parts:
                continue
            if _encodes_with_nonce(path):
                found.append(f"{root.name}/{path.relative_to(root)}")
    return found


def nonce_check(ctx: Context) -> Iterator[Observation]:
    """Issuing code never passes a nonce, and the nonces of real tokens are all distinct."""
    if ctx.format is not LOCAL:
        return
    offenders = issuing_code_with_nonce()
    if offenders:
        yield Observation(
            "issuing code passes encode(..., nonce=)", Outcome.ACCEPTED, ", ".join(offenders), "none"
        )
    else:
        yield Observation(
            "issuing code passes encode(..., nonce=)",
            Outcome.HELD,
            "no such call in formats/ or service/",
            "none",
        )
    if ctx.http is None:
        return
    sessions = [ctx.http.login() for _ in range(3)]
    tokens = [token for session in sessions for token in (session.access, session.refresh)]
    nonces = {forge.paseto_split(token)[1][:32] for token in tokens}
    outcome = Outcome.HELD if len(nonces) == len(tokens) else Outcome.ACCEPTED
    yield Observation(
        f"nonces of {len(tokens)} issued tokens", outcome, f"{len(nonces)} distinct", "all distinct"
    )


def nonce_library(name: FormatName) -> Iterator[LibraryObservation]:
    """Pyseto takes a caller's nonce: two tokens under one nonce give away the second plaintext."""
    if name is not LOCAL:
        return
    key = pyseto.Key.new(4, "local", secrets.token_bytes(32))
    one, two = b'{"role":"user","sub":"alice"}', b'{"role":"boss","sub":"mallo"}'
    c1 = forge.paseto_split(pyseto.encode(key, one, nonce=bytes(32)).decode())[1][32:-32]
    c2 = forge.paseto_split(pyseto.encode(key, two, nonce=bytes(32)).decode())[1][32:-32]
    recovered = bytes(a ^ b ^ p for a, b, p in zip(c1, c2, one, strict=True)) == two
    verdict = ACCEPTS if recovered else REJECTS
    yield LibraryObservation(
        "pyseto.encode(key, p, nonce=bytes(32)) twice",
        verdict,
        "second plaintext recovered" if recovered else "nonce refused",
        ACCEPTS,
    )


# --- CROSS-FORMAT-KEY-REUSE --------------------------------------------------------------------------


def cross_format_key(name: FormatName) -> Iterator[StartupCase]:
    """One key in two formats' key directories: HS256 secret and v4.local key; jwt-eddsa and v4.public.

    The same 32 random bytes as the HS256 secret and the v4.local key; the same Ed25519 key as the
    jwt-eddsa key and the v4.public key (one key signing in two formats).
    """
    if name in (EDDSA, PUBLIC):
        secret_key = attacker.ed25519_keypair()[0]
        yield StartupCase(
            f"{name.value} service; jwt-eddsa and paseto-v4-public keys are the same Ed25519 key",
            name,
            files={
                "jwt-eddsa/shared.jwk": attacker.key_file(attacker.okp_jwk(secret_key, kid="", private=True)),
                "paseto-v4-public/shared.paserk": paserk_file("k4.secret.", secret_key),
            },
            library=lambda: (
                _library_eddsa_key(secret_key),
                _library_paserk(paserk_file("k4.secret.", secret_key)),
            ),
            library_expect=ACCEPTS,
        )
        return
    if name not in (HS256, LOCAL):
        return
    shared = secrets.token_bytes(32)
    yield StartupCase(
        f"{name.value} service; jwt-hs256 and paseto-v4-local keys are the same 32 bytes",
        name,
        files={
            "jwt-hs256/shared.jwk": hs256_key_file(shared),
            "paseto-v4-local/shared.paserk": paserk_file("k4.local.", shared),
        },
        library=lambda: (library_hmac_key(shared), library_local_key(shared)),
        library_expect=ACCEPTS,
    )


ATTACKS: Final = (
    Attack(
        "WEAK-SYMMETRIC-KEY",
        "Guessable or short HS256 secret / v4.local key, cracked offline from one token",
        Section.KEY_MANAGEMENT,
        row(STARTUP, deployment(ASYMMETRIC), deployment(ASYMMETRIC), STARTUP, deployment(ASYMMETRIC)),
        startup=weak_key,
    ),
    Attack(
        "EMPTY-SYMMETRIC-KEY",
        "Secret is empty (unset variable) and tokens MACed with '' verify",
        Section.KEY_MANAGEMENT,
        row(STARTUP, deployment(ASYMMETRIC), deployment(ASYMMETRIC), STARTUP, deployment(ASYMMETRIC)),
        startup=empty_key,
    ),
    Attack(
        "PASETO-KEY-LENGTH",
        "v4.local key that is not 256 bits; k4.local / k4.secret PASERK of the wrong length",
        Section.KEY_MANAGEMENT,
        row(
            deployment("a PASERK length rule; the HS256 analogue is WEAK-SYMMETRIC-KEY"),
            deployment("a PASERK length rule; JWK coordinates are checked by the P-256 key loader"),
            deployment("a PASERK length rule; JWK x and d are checked by the Ed25519 key loader (32 bytes)"),
            STARTUP,
            STARTUP,
        ),
        startup=key_length,
    ),
    Attack(
        "PASETO-PASERK-TYPE-CONFUSION",
        "Configured PASERK of the wrong type or version",
        Section.KEY_MANAGEMENT,
        row(
            deployment("JWT keys are JWKs; the JWT analogue is JWT-KEYCONF-ES-HS"),
            deployment("JWT keys are JWKs; the JWT analogue is JWT-KEYCONF-ES-HS"),
            deployment("JWT keys are JWKs; the JWT analogue is JWT-KEYCONF-ES-HS"),
            STARTUP,
            STARTUP,
        ),
        startup=paserk_type,
    ),
    Attack(
        "PASETO-NONCE-MISUSE",
        "Caller-supplied constant nonce on issuance: keystream reuse recovers plaintext",
        Section.KEY_MANAGEMENT,
        row(
            deployment("JWS does not encrypt: no nonce"),
            deployment("JWS does not encrypt: no nonce"),
            deployment("JWS does not encrypt: no nonce"),
            Applicability(
                Expect.HOLD,
                "the catalog's start-up guard lives in the issuing code, which never passes a nonce",
            ),
            deployment("v4.public signs, it does not encrypt: no nonce"),
        ),
        check=nonce_check,
        library_check=nonce_library,
        library_note="The catalog's guard (start-up column) is that issuing code never passes nonce=.",
    ),
    Attack(
        "CROSS-FORMAT-KEY-REUSE",
        "Same secret bytes as two formats' keys (HS256 and v4.local; one Ed25519 key, EdDSA and v4.public)",
        Section.KEY_MANAGEMENT,
        row(
            STARTUP,
            deployment("a P-256 key cannot double as another format's key"),
            ONE_ED25519_KEY,
            STARTUP,
            ONE_ED25519_KEY,
        ),
        startup=cross_format_key,
    ),
)
