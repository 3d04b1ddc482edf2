"""Catalog section "Key selection": key ids that try to become paths, commands or keys."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from cryptography.hazmat.primitives.asymmetric import ec

from formats import Kind, forge
from service.attacks import attacker
from service.attacks.context import Context
from service.attacks.model import (
    EDDSA,
    ES256,
    HS256,
    JWT_FORMATS,
    LOCAL,
    MALFORMED,
    REJECT,
    UNKNOWN_KEY,
    Attack,
    Probe,
    Section,
    deployment,
    every,
    row,
)

__all__ = ["ATTACKS"]

PATH_KEYS: Final = {
    "../../../../../../dev/null": b"",
    "../../../../proc/sys/kernel/randomize_va_space": b"2\n",
}
COMMAND_KIDS: Final = ("|sleep 10", "| curl http://127.0.0.1:9/x", "$(sleep 10)", "`sleep 10`", "x; sleep 10")


def _signed_with_named_key(ctx: Context, kid: str, key: bytes) -> str:
    """A token whose key id names ``key`` (a file's content), signed or encrypted with exactly that key."""
    payload = ctx.claims()
    if ctx.format is HS256:
        return forge.jws(ctx.header(kid=kid), payload, sign=forge.hmac_signer(key))
    if ctx.format is ES256:
        return forge.jws(
            ctx.header(kid=kid), payload, sign=forge.ecdsa_signer(ec.generate_private_key(ec.SECP256R1()))
        )
    if ctx.format is EDDSA:
        return forge.jws(
            ctx.header(kid=kid), payload, sign=forge.ed25519_signer(attacker.ed25519_keypair()[0])
        )
    footer = forge.json_bytes({"kid": kid})
    implicit = ctx.implicit(Kind.ACCESS)
    if ctx.format is LOCAL:
        return forge.v4_local(key, payload, footer=footer, implicit=implicit)
    secret, _, _ = attacker.ed25519_keypair()
    return forge.v4_public(secret, payload, footer=footer, implicit=implicit)


def path_traversal(ctx: Context) -> Iterator[Probe]:
    """Key ids that are paths to files with known content, the token made with that content as key."""
    for kid, content in PATH_KEYS.items():
        label = "empty" if not content else repr(content.decode())
        yield Probe(
            f"kid {kid!r}, keyed with its content ({label})",
            _signed_with_named_key(ctx, kid, content),
            UNKNOWN_KEY,
        )


def command_injection(ctx: Context) -> Iterator[Probe]:
    """Key ids that would run a command if they reached a shell."""
    for kid in COMMAND_KIDS:
        yield Probe(f"kid {kid!r}", _signed_with_named_key(ctx, kid, b""), UNKNOWN_KEY)


def footer_key_injection(ctx: Context) -> Iterator[Probe]:
    """The attacker's key in the footer, next to (or as) the key id; token made with the attacker's key."""
    if ctx.format in JWT_FORMATS:
        return
    payload = ctx.claims()
    implicit = ctx.implicit(Kind.ACCESS)
    if ctx.format is LOCAL:
        key, paserk, lid = attacker.local_key()

        def made(footer: dict[str, str]) -> str:
            return forge.v4_local(key, payload, footer=footer, implicit=implicit)

        material = "k"
    else:
        secret, paserk, lid = attacker.ed25519_keypair()

        def made(footer: dict[str, str]) -> str:
            return forge.v4_public(secret, payload, footer=footer, implicit=implicit)

        material = "pk"
    yield Probe(
        f'footer {{"kid": attacker id, "{material}": attacker PASERK}}',
        made({"kid": lid, material: paserk}),
        MALFORMED,
    )
    yield Probe(
        f'footer {{"kid": service id, "{material}": attacker PASERK}}',
        made({"kid": ctx.kid, material: paserk}),
        MALFORMED,
    )
    yield Probe('footer {"kid": attacker PASERK id}', made({"kid": lid}), UNKNOWN_KEY)
    yield Probe('footer {"kid": attacker PASERK itself}', made({"kid": paserk}), UNKNOWN_KEY)


ATTACKS: Final = (
    Attack(
        "KID-PATH-TRAVERSAL",
        "Key id used as a file path: kid / footer kid points at a file with known content",
        Section.KEY_SELECTION,
        every(REJECT),
        probes=path_traversal,
        library_note=(
            "Library-agnostic: the ordinary call uses the configured key and rejects; an application that "
            "reads the key from the kid path lets the '2\\n' variant through in both libraries."
        ),
    ),
    Attack(
        "KID-CMD-INJECTION",
        "Key id reaching a shell or command in key lookup",
        Section.KEY_SELECTION,
        every(REJECT),
        probes=command_injection,
        library_note="Neither library looks keys up by kid; the service treats kid as an opaque map key.",
    ),
    Attack(
        "PASETO-FOOTER-KEY-INJECTION",
        "Verification key taken from the (not yet authenticated) footer",
        Section.KEY_SELECTION,
        row(
            deployment("JWT has no footer; its analogue is JWT-EMBEDDED-JWK / JWT-JKU-INJECTION"),
            deployment("JWT has no footer; its analogue is JWT-EMBEDDED-JWK / JWT-JKU-INJECTION"),
            deployment("JWT has no footer; its analogue is JWT-EMBEDDED-JWK / JWT-JKU-INJECTION"),
            REJECT,
            REJECT,
        ),
        probes=footer_key_injection,
        library_note="pyseto never takes a key from the footer; Key.from_paserk(footer['pk']) would.",
    ),
)
