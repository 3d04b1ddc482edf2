"""Catalog section "Parsing & DoS": size, structure, spelling, duplicate members, other formats, JWE."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Final

from formats import FORMATS, Claims, FormatName, Kind, ephemeral, forge
from service.attacks.context import Context, read_claims
from service.attacks.model import (
    ALL_FORMATS,
    JWT_FORMATS,
    LOCAL,
    MALFORMED,
    PUBLIC,
    REJECT,
    Attack,
    NeedsKeyError,
    Observation,
    Outcome,
    Probe,
    Profile,
    Section,
    Verdict,
    Via,
    deployment,
    every,
    policy,
    row,
    structural,
)

__all__ = ["ATTACKS"]

ACCEPTS: Final = Verdict.ACCEPTS
REJECTS: Final = Verdict.REJECTS
MIB: Final = 1024 * 1024
_ALPHABET: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


# --- PARSE-OVERSIZED-TOKEN ---------------------------------------------------------------------------


def _oversized(ctx: Context, size: int) -> str:
    junk = forge.b64u(secrets.token_bytes(size * 3 // 4))
    if ctx.format in JWT_FORMATS:
        header = forge.b64u(forge.json_bytes(ctx.header()))
        return f"{header}.{junk}.{forge.b64u(bytes(32))}"
    return f"{ctx.format_header}{junk}"


def oversized(ctx: Context) -> Iterator[Probe]:
    """Megabyte tokens with an invalid signature: refused before any base64, JSON or crypto work."""
    too_large = frozenset({401, 431})  # a server in front may refuse the header itself
    yield Probe("1 MiB bearer token", _oversized(ctx, MIB), MALFORMED, statuses=too_large)
    yield Probe("8 MiB bearer token", _oversized(ctx, 8 * MIB), MALFORMED, statuses=too_large)
    yield Probe("1 MiB refresh cookie", _oversized(ctx, MIB), MALFORMED, via=Via.COOKIE, statuses=too_large)


# --- PARSE-MALFORMED-B64 -----------------------------------------------------------------------------


def malformed(ctx: Context) -> Iterator[Probe]:
    """Structure broken: empty, segment counts, characters outside base64url, non-ASCII, bad JSON."""
    sample = ctx.sample()
    yield Probe('"abc"', "abc", MALFORMED)
    yield Probe("a character outside base64url", sample[:12] + "!" + sample[13:], MALFORMED)
    yield Probe("a non-ASCII character (é)", (sample + "é").encode("utf-8"), MALFORMED)
    yield Probe("raw bytes 0xFF 0xFE", sample.encode() + b"\xff\xfe", MALFORMED)
    yield Probe("a newline inside a segment", sample[:20] + "\n" + sample[20:], MALFORMED)
    yield Probe("empty token", "", MALFORMED, only=Profile.LIBRARY)
    yield Probe("trailing newline", sample + "\n", MALFORMED, only=Profile.LIBRARY)
    yield Probe("leading space", " " + sample, MALFORMED, only=Profile.LIBRARY)
    yield Probe("empty bearer token", "Bearer ", MALFORMED, via=Via.AUTHORIZATION, library=None)
    if ctx.format in JWT_FORMATS:
        header, payload, signature = sample.split(".")
        for label, token in (
            ("two segments", f"{header}.{payload}"),
            ("four segments", f"{sample}.{signature}"),
            ("five segments", f"{sample}.{payload}.{signature}"),
            ("empty header segment", f".{payload}.{signature}"),
        ):
            yield Probe(label, token, MALFORMED)
        for label, value in (
            ("header not JSON", b"not json"),
            ("header a JSON array", b'["HS256"]'),
            ("alg as a list", forge.json_bytes(ctx.header(alg=[ctx.header()["alg"]]))),
            ("kid as an object", forge.json_bytes(ctx.header(kid={"id": ctx.kid}))),
        ):
            yield Probe(label, f"{forge.b64u(value)}.{payload}.{signature}", MALFORMED)
        return
    head, body, footer = forge.paseto_split(sample)
    footer_segment = forge.b64u(footer)
    short = 40 if ctx.format is LOCAL else 10
    for label, token in (
        ("header only", head),
        ("header without the trailing dot", head[:-1]),
        ("body of one character", head + "A"),
        (
            f"body of {short} bytes (shorter than nonce and tag or a signature)",
            forge.paseto(head, secrets.token_bytes(short), footer),
        ),
        ("five segments", f"{sample}.{footer_segment}"),
        ("empty footer segment", f"{head}{forge.b64u(body)}."),
    ):
        yield Probe(label, token, MALFORMED)
    for label, value in (("footer not JSON", b"not json"), ("footer a JSON array", b'["kid"]')):
        yield Probe(label, forge.paseto(head, body, value), MALFORMED)


# --- PARSE-NONCANONICAL-B64 --------------------------------------------------------------------------


def _unused_bits_set(segment: str) -> str:
    """The same bytes with a non-zero unused low bit in the last character (segment length 2 or 3 mod 4)."""
    return segment[:-1] + _ALPHABET[_ALPHABET.index(segment[-1]) | 1]


def _standard_alphabet(segment: str) -> str:
    return segment.replace("-", "+").replace("_", "/")


def _padded(segment: str) -> str:
    return segment + "=" * (-len(segment) % 4)


def _mint_until(good: Callable[[str], bool], make: Callable[[], str]) -> str:
    """Mint tokens until one has the spelling a variant needs (e.g. a segment that can carry padding)."""
    for _ in range(500):
        token = make()
        if good(token):
            return token
    raise NeedsKeyError("no token with the needed spelling")  # pragma: no cover - 500 misses in a row


def _varied(ctx: Context) -> Callable[[], str]:
    """Forge tokens whose claims vary in length (the jti), so segment lengths vary too."""
    return lambda: ctx.forge_claims(jti=secrets.token_urlsafe(8 + secrets.randbelow(16)))


def noncanonical(ctx: Context) -> Iterator[Probe]:
    """The same bytes, spelled otherwise: padding, non-zero unused bits, standard alphabet, junk inside.

    Each token is otherwise valid: for JWT the signature covers the segments exactly as sent; for PASETO
    the signature covers the decoded bytes, so any spelling of them would verify if the parser allowed it.
    """
    if ctx.format in JWT_FORMATS:
        yield from _noncanonical_jws(ctx)
    else:
        yield from _noncanonical_paseto(ctx)


def _noncanonical_jws(ctx: Context) -> Iterator[Probe]:
    key = ctx.require_key()

    def resigned(header: str, payload: str) -> str:
        return f"{header}.{payload}.{forge.b64u(key.sign(f'{header}.{payload}'.encode()))}"

    def ragged(token: str) -> bool:
        return all(len(part) % 4 for part in token.split(".")[1:])

    def dashed(token: str) -> bool:
        return all(set(part) & set("-_") for part in token.split(".")[1:])

    token = _mint_until(ragged, _varied(ctx))
    header, payload, signature = token.split(".")
    yield Probe(
        "signature segment padded with =",
        f"{header}.{payload}.{_padded(signature)}",
        MALFORMED,
        library=ACCEPTS,
    )
    yield Probe(
        "signature segment with non-zero unused bits",
        f"{header}.{payload}.{_unused_bits_set(signature)}",
        MALFORMED,
    )
    yield Probe(
        "payload segment padded with =, signed as sent",
        resigned(header, _padded(payload)),
        MALFORMED,
        library=ACCEPTS,
    )
    yield Probe(
        "payload segment with non-zero unused bits, signed as sent",
        resigned(header, _unused_bits_set(payload)),
        MALFORMED,
    )
    if len(header) % 4:
        yield Probe(
            "header segment padded with =, signed as sent",
            resigned(_padded(header), payload),
            MALFORMED,
            library=ACCEPTS,
        )
    yield Probe(
        "payload segment with junk (!!!!) inside, signed as sent",
        resigned(header, payload[:10] + "!!!!" + payload[10:]),
        MALFORMED,
    )
    # "~~~" in a claim puts 0x7E at every offset mod 3: its low six bits (62) spell "-" in base64url.
    token = _mint_until(dashed, lambda: ctx.forge_claims(jti=secrets.token_urlsafe(12) + "~~~"))
    header, payload, signature = token.split(".")
    yield Probe(
        "signature segment in the standard alphabet",
        f"{header}.{payload}.{_standard_alphabet(signature)}",
        MALFORMED,
    )
    yield Probe(
        "payload segment in the standard alphabet, signed as sent",
        resigned(header, _standard_alphabet(payload)),
        MALFORMED,
    )


def _noncanonical_paseto(ctx: Context) -> Iterator[Probe]:
    def body_of(token: str) -> str:
        return token.split(".")[2]

    token = ctx.sample()
    if len(body_of(token)) % 4 == 0 or not set(body_of(token)) & set("-_"):
        token = _mint_until(lambda t: bool(len(body_of(t)) % 4 and set(body_of(t)) & set("-_")), _varied(ctx))
    version, purpose, body, footer = token.split(".")
    head = f"{version}.{purpose}."
    pyseto_accepts = ACCEPTS
    for label, spelled in (
        ("body padded with =", _padded(body)),
        ("body with non-zero unused bits", _unused_bits_set(body)),
        ("body in the standard alphabet", _standard_alphabet(body)),
        ("body with junk (!!!!) inside", body[:10] + "!!!!" + body[10:]),
    ):
        yield Probe(label, f"{head}{spelled}.{footer}", MALFORMED, library=pyseto_accepts)
    if len(footer) % 4:
        yield Probe(
            "footer padded with =", f"{head}{body}.{_padded(footer)}", MALFORMED, library=pyseto_accepts
        )
        yield Probe(
            "footer with non-zero unused bits",
            f"{head}{body}.{_unused_bits_set(footer)}",
            MALFORMED,
            library=pyseto_accepts,
        )


# --- PARSE-DUPLICATE-JSON-KEYS -----------------------------------------------------------------------


def duplicate_members(ctx: Context) -> Iterator[Probe]:
    """Duplicate member names, validly signed: role user then admin; alg none then the real one; kid twice."""
    claims = forge.json_bytes(ctx.claims(role="user"))
    doubled = claims[:-1] + b',"role":"admin"}'
    yield Probe('payload {"role":"user", ..., "role":"admin"}', ctx.mint(doubled), MALFORMED, library=ACCEPTS)
    if ctx.format in JWT_FORMATS:
        header = forge.json_bytes(ctx.header())
        raw = b'{"alg":"none",' + header[1:]
        yield Probe(
            'header {"alg":"none", "alg":<the real one>, ...}',
            ctx.mint(ctx.claims(), header=raw),
            MALFORMED,
            library=ACCEPTS,
        )
        return
    footer = forge.json_bytes({"kid": ctx.kid})
    yield Probe(
        'footer {"kid": id, "kid": id}',
        ctx.mint(ctx.claims(), footer=footer[:-1] + b"," + footer[1:]),
        MALFORMED,
        library=ACCEPTS,
    )


# --- CROSS-FORMAT-TOKEN ------------------------------------------------------------------------------


def cross_format(ctx: Context) -> Iterator[Probe]:
    """Valid tokens of every other format (issued by a tokenbench of that format)."""
    now = ctx.now
    claims = Claims(
        sub=ctx.subject,
        role="admin",
        perms=ctx.perms,
        iat=now,
        nbf=now,
        exp=now + timedelta(minutes=10),
        jti=secrets.token_urlsafe(16),
        iss=ctx.issuer,
        aud=ctx.audience,
    )
    for other in FORMATS:
        if other is not ctx.format:
            token = ephemeral(other).issue(claims, kind=Kind.ACCESS)
            yield Probe(f"a valid {other.value} access token", token, MALFORMED)


# --- INFO-CLAIMS-READABLE ----------------------------------------------------------------------------


def claims_readable(ctx: Context) -> Iterator[Observation]:
    """Decode a genuine token without any key: which claims can anyone read?"""
    token = ctx.sample()
    if ctx.format is LOCAL:
        body = forge.paseto_split(token)[1]
        readable = ctx.subject.encode() in body or b'"sub"' in body
        outcome = Outcome.ACCEPTED if readable else Outcome.HELD
        seen = (
            "claims found in the body"
            if readable
            else "body is ciphertext; no claim readable without the key"
        )
        yield Observation("decode a genuine token without the key", outcome, seen, "ciphertext")
        return
    claims = read_claims(ctx.format, token, None) or {}
    yield Observation(
        "decode a genuine token without the key",
        Outcome.POLICY,
        "readable: " + ", ".join(sorted(claims)),
        "no secrets or personal data in claims",
    )


# --- JOSE-JWE-DOS ------------------------------------------------------------------------------------


def jwe(_: Context) -> Iterator[Probe]:
    """A JWE with a compression bomb header and a PBES2 count of 2^31 (probed anyway: nothing decrypts it)."""
    header = {
        "alg": "PBES2-HS256+A128KW",
        "enc": "A128GCM",
        "zip": "DEF",
        "p2c": 2**31 - 1,
        "p2s": "AAAAAAAAAAA",
    }
    parts = [forge.b64u(forge.json_bytes(header))] + [
        forge.b64u(secrets.token_bytes(n)) for n in (24, 12, 64, 16)
    ]
    yield Probe("JWE compact, zip DEF, PBES2 p2c 2^31-1", ".".join(parts), MALFORMED)


NO_JWE: Final = "the service verifies JWS compact only; no JWE path exists (pyjwt has no JWE)"
PASETO_NO_JWE: Final = structural("PASETO has no compression and no password-based token decryption")

ATTACKS: Final = (
    Attack(
        "PARSE-OVERSIZED-TOKEN",
        "Megabyte-sized token forces decoding and crypto work before rejection",
        Section.PARSING,
        every(REJECT),
        probes=oversized,
        library_note="No size cap in either library: they reject only after decoding the whole token.",
    ),
    Attack(
        "PARSE-MALFORMED-B64",
        "Malformed structure: characters, segment counts, non-ASCII, non-JSON header or footer",
        Section.PARSING,
        every(REJECT),
        probes=malformed,
        library_note="Rejected; pyseto raises bare ValueError subclasses an application must map to 401.",
    ),
    Attack(
        "PARSE-NONCANONICAL-B64",
        "Same bytes, different spelling: padding, unused bits, standard alphabet, junk inside",
        Section.PARSING,
        every(REJECT),
        probes=noncanonical,
        library_note="pyseto accepts every variant (fails vectors 4-F-4, 4-F-5); pyjwt accepts = padding.",
    ),
    Attack(
        "PARSE-DUPLICATE-JSON-KEYS",
        "Duplicate member names (last-wins parser vs a first-wins gateway)",
        Section.PARSING,
        every(REJECT),
        probes=duplicate_members,
        library_note="Both libraries use json.loads: last value wins.",
    ),
    Attack(
        "CROSS-FORMAT-TOKEN",
        "Token of another format (or the other JWT algorithm after a config flip)",
        Section.PARSING,
        every(REJECT),
        probes=cross_format,
    ),
    Attack(
        "INFO-CLAIMS-READABLE",
        "Claims confidentiality: JWS and v4.public payloads are only base64url",
        Section.PARSING,
        row(
            policy("JWS payloads are base64url, readable by anyone: no secrets or personal data in claims"),
            policy("JWS payloads are base64url, readable by anyone: no secrets or personal data in claims"),
            policy("JWS payloads are base64url, readable by anyone: no secrets or personal data in claims"),
            structural("v4.local encrypts the claims (their length still shows)"),
            policy("v4.public signs, it does not encrypt: no secrets or personal data in claims"),
        ),
        check=claims_readable,
        library_note="Same bytes on the wire: the library changes nothing here.",
    ),
    Attack(
        "JOSE-JWE-DOS",
        "JWE decompression bomb (zip=DEF) and PBES2 huge p2c",
        Section.PARSING,
        row(deployment(NO_JWE), deployment(NO_JWE), deployment(NO_JWE), PASETO_NO_JWE, PASETO_NO_JWE),
        probes=jwe,
    ),
)

_ = (json, FormatName, ALL_FORMATS, PUBLIC, REJECTS)
