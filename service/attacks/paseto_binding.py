"""Catalog section "PASETO version/purpose binding": keys bound to one (version, purpose), kinds bound.

A PASETO key is material plus parameters: exactly one version and purpose. The token's kind is bound by
the implicit assertion.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Final

import pyseto

from formats import FormatName, Kind, forge
from service.attacks import attacker
from service.attacks.context import Context
from service.attacks.contract import IMPLICIT_ASSERTION
from service.attacks.key_management import paserk_file
from service.attacks.model import (
    BAD_SIGNATURE,
    JWT_FORMATS,
    LOCAL,
    MALFORMED,
    PUBLIC,
    REJECT,
    REJECT_AND_STARTUP,
    STARTUP,
    WRONG_KIND,
    Attack,
    Probe,
    Section,
    StartupCase,
    Verdict,
    deployment,
    row,
)

__all__ = ["ATTACKS"]

ACCEPTS: Final = Verdict.ACCEPTS
REJECTS: Final = Verdict.REJECTS
PAYLOAD: Final = b'{"sub":"x"}'


# --- PASETO-PURPOSE-CONFUSION ------------------------------------------------------------------------


def purpose_confusion(ctx: Context) -> Iterator[Probe]:
    """Local vs public: a v4.local token keyed with the published Ed25519 key, and the reverse."""
    if ctx.format in JWT_FORMATS:
        return
    payload = ctx.claims()
    implicit = ctx.implicit(Kind.ACCESS)
    if ctx.format is PUBLIC:
        public = ctx.ed25519_public()
        token = forge.v4_local(public, payload, footer=ctx.footer(), implicit=implicit)
        yield Probe("v4.local token keyed with the service's public key", token, MALFORMED)
        yield Probe(
            "the same token relabelled v4.public.", token.replace("v4.local.", "v4.public.", 1), BAD_SIGNATURE
        )
        return
    secret = attacker.ed25519_keypair()[0]
    token = forge.v4_public(secret, payload, footer=ctx.footer(), implicit=implicit)
    yield Probe("v4.public token (attacker key, service key id)", token, MALFORMED)


def purpose_confusion_startup(name: FormatName) -> Iterator[StartupCase]:
    """After a format flip, the public key is loaded as the local key: its PASERK file, or its raw bytes."""
    if name is not LOCAL:
        return
    secret = attacker.ed25519_keypair()[0]
    public = secret[32:]

    def library() -> object:
        key = pyseto.Key.new(4, "local", public)
        return pyseto.decode(key, forge.v4_local(public, PAYLOAD), deserializer=json)

    yield StartupCase(
        "the k4.public file in the paseto-v4-local key directory",
        LOCAL,
        files={"paseto-v4-local/public.paserk": paserk_file("k4.public.", public)},
        library=library,
        library_expect=ACCEPTS,
    )
    yield StartupCase(
        "the v4.public key's 32 public bytes as a k4.local key, the v4.public key file beside it",
        LOCAL,
        files={
            "paseto-v4-public/signing.paserk": paserk_file("k4.secret.", secret),
            "paseto-v4-local/public-bytes.paserk": paserk_file("k4.local.", public),
        },
        library=library,
        library_expect=ACCEPTS,
    )


# --- PASETO-VERSION-CONFUSION ------------------------------------------------------------------------


def version_confusion(ctx: Context) -> Iterator[Probe]:
    """Tokens of v2/v3 under the same key material, and relabelled headers."""
    if ctx.format in JWT_FORMATS:
        return
    key = ctx.require_key()
    payload = forge.json_bytes(ctx.claims())
    footer = ctx.footer()
    if ctx.format is PUBLIC:
        v2 = forge.v2_public(key.ed25519_secret, payload, footer=footer)
        yield Probe("v2.public signed with the service's Ed25519 key", v2, MALFORMED)
        yield Probe("that v2.public token relabelled v4.public.", v2.replace("v2.", "v4.", 1), BAD_SIGNATURE)
        return
    for version in (2, 3):
        token = pyseto.encode(
            pyseto.Key.new(version, "local", key.local_key), payload, footer=footer
        ).decode()
        yield Probe(f"v{version}.local encrypted with the service's key", token, MALFORMED)
        yield Probe(
            f"that v{version}.local token relabelled v4.local.",
            token.replace(f"v{version}.", "v4.", 1),
            BAD_SIGNATURE,
        )


def version_confusion_startup(name: FormatName) -> Iterator[StartupCase]:
    """Keys of another PASETO version in the key directory."""
    secret = attacker.ed25519_keypair()[0]
    local = secrets.token_bytes(32)
    if name is LOCAL:
        cases = {"k2.local": paserk_file("k2.local.", local), "k3.local": paserk_file("k3.local.", local)}

        def library() -> object:
            keys = [pyseto.Key.new(2, "local", local), pyseto.Key.new(4, "local", local)]
            return pyseto.decode(keys, pyseto.encode(keys[0], PAYLOAD), deserializer=json)

    elif name is PUBLIC:
        cases = {
            "k2.secret": paserk_file("k2.secret.", secret),
            "k3.secret": paserk_file("k3.secret.", secrets.token_bytes(48)),
        }

        def library() -> object:
            v2 = pyseto.Key.from_paserk(paserk_file("k2.public.", secret[32:]))
            v4 = pyseto.Key.from_paserk(paserk_file("k4.public.", secret[32:]))
            return pyseto.decode([v4, v2], forge.v2_public(secret, PAYLOAD), deserializer=json)

    else:
        return
    for label, text in cases.items():
        yield StartupCase(
            f"{label} key in the {name.value} key directory",
            name,
            files={f"{name.value}/old.paserk": text},
            library=library,
            library_expect=ACCEPTS,
        )


# --- PASETO-MULTI-PURPOSE-KEYRING --------------------------------------------------------------------


def multi_purpose_probes(ctx: Context) -> Iterator[Probe]:
    """Tokens of the other purpose from another issuer (what a mixed key ring would accept)."""
    if ctx.format in JWT_FORMATS:
        return
    payload = ctx.claims()
    implicit = ctx.implicit(Kind.ACCESS)
    if ctx.format is LOCAL:
        secret, _, pid = attacker.ed25519_keypair()
        token = forge.v4_public(secret, payload, footer={"kid": pid}, implicit=implicit)
        yield Probe("v4.public token signed by another issuer", token, MALFORMED)
    else:
        key, _, lid = attacker.local_key()
        token = forge.v4_local(key, payload, footer={"kid": lid}, implicit=implicit)
        yield Probe("v4.local token encrypted by another issuer", token, MALFORMED)


def multi_purpose_startup(name: FormatName) -> Iterator[StartupCase]:
    """A key ring mixing purposes: another issuer's k4.public next to the k4.local key, and the reverse."""
    secret, other_public, _ = attacker.ed25519_keypair()
    if name is LOCAL:
        local = secrets.token_bytes(32)

        def library() -> object:
            keys = [pyseto.Key.new(4, "local", local), pyseto.Key.from_paserk(other_public)]
            return pyseto.decode(keys, forge.v4_public(secret, PAYLOAD), deserializer=json)

        yield StartupCase(
            "another issuer's k4.public next to the k4.local key",
            LOCAL,
            files={"paseto-v4-local/0-other-issuer.paserk": other_public},
            with_valid_key=True,
            library=library,
            library_expect=ACCEPTS,
        )
    elif name is PUBLIC:
        local = secrets.token_bytes(32)

        def library() -> object:
            keys = [pyseto.Key.from_paserk(other_public), pyseto.Key.new(4, "local", local)]
            return pyseto.decode(keys, forge.v4_local(local, PAYLOAD), deserializer=json)

        yield StartupCase(
            "a k4.local key next to the k4.secret key",
            PUBLIC,
            files={"paseto-v4-public/0-local.paserk": paserk_file("k4.local.", local)},
            with_valid_key=True,
            library=library,
            library_expect=ACCEPTS,
        )


# --- PASETO-IMPLICIT-ASSERTION -----------------------------------------------------------------------


def implicit_assertion(ctx: Context) -> Iterator[Probe]:
    """Tokens bound to another implicit assertion (tenant, kind) or to none."""
    if ctx.format in JWT_FORMATS:
        return
    payload = ctx.claims()
    tenant = b'{"typ":"access","tenant":"t-1"}'
    yield Probe("bound to a tenant assertion", ctx.mint(payload, implicit=tenant), BAD_SIGNATURE)
    # Access claims bound to the refresh assertion: v4.local finds the other kind's tag; v4.public checks
    # one signature, under the kind the payload claims (access), so it is a bad signature there
    # (docs/decisions.md: a rejection costs no more than an acceptance).
    yield Probe(
        "bound to the refresh assertion, presented as access",
        ctx.mint(payload, implicit=IMPLICIT_ASSERTION[Kind.REFRESH]),
        BAD_SIGNATURE if ctx.format is PUBLIC else WRONG_KIND,
    )
    yield Probe("bound to no assertion", ctx.mint(payload, implicit=b""), BAD_SIGNATURE, library=None)


ATTACKS: Final = (
    Attack(
        "PASETO-PURPOSE-CONFUSION",
        "local vs public confusion: v4.local token keyed with the published Ed25519 public key",
        Section.PASETO_BINDING,
        row(
            deployment("JWT has no purpose; the JWT analogue is JWT-KEYCONF-ES-HS"),
            deployment("JWT has no purpose; the JWT analogue is JWT-KEYCONF-ES-HS"),
            deployment("JWT has no purpose; the JWT analogue is JWT-KEYCONF-ES-HS"),
            REJECT_AND_STARTUP,
            REJECT,
        ),
        probes=purpose_confusion,
        startup=purpose_confusion_startup,
        library_note="pyseto rejects (key and token headers differ); Key.new(4,'local',public) lets it in.",
    ),
    Attack(
        "PASETO-VERSION-CONFUSION",
        "Downgrade / cross-version: another version under the same key material, or the header relabelled",
        Section.PASETO_BINDING,
        row(
            deployment("JWT has no version field; the nearest analogue is JWT-ALG-NOT-ALLOWED"),
            deployment("JWT has no version field; the nearest analogue is JWT-ALG-NOT-ALLOWED"),
            deployment("JWT has no version field; the nearest analogue is JWT-ALG-NOT-ALLOWED"),
            REJECT_AND_STARTUP,
            REJECT_AND_STARTUP,
        ),
        probes=version_confusion,
        startup=version_confusion_startup,
        library_note="pyseto rejects by default; keys=[V2, V4] in one decode call lets a v2 token through.",
    ),
    Attack(
        "PASETO-MULTI-PURPOSE-KEYRING",
        "Version/purpose routing: a parser given keys of several types accepts tokens of any of them",
        Section.PASETO_BINDING,
        row(
            deployment("JWT analogue: an algorithms list with more than one entry (pinned to one here)"),
            deployment("JWT analogue: an algorithms list with more than one entry (pinned to one here)"),
            deployment("JWT analogue: an algorithms list with more than one entry (pinned to one here)"),
            STARTUP,
            STARTUP,
        ),
        probes=multi_purpose_probes,
        startup=multi_purpose_startup,
    ),
    Attack(
        "PASETO-IMPLICIT-ASSERTION",
        "Token bound to one implicit assertion (tenant, kind) presented where another is expected",
        Section.PASETO_BINDING,
        row(
            deployment(
                "JWT has no implicit assertion; its kind binding is the typ header (TOKEN-TYPE-CONFUSION)"
            ),
            deployment(
                "JWT has no implicit assertion; its kind binding is the typ header (TOKEN-TYPE-CONFUSION)"
            ),
            deployment(
                "JWT has no implicit assertion; its kind binding is the typ header (TOKEN-TYPE-CONFUSION)"
            ),
            REJECT,
            REJECT,
        ),
        probes=implicit_assertion,
    ),
)
