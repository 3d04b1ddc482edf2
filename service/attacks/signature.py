"""Catalog section "Signature & algorithm": forged, stripped, confused and degenerate signatures."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from functools import partial
from typing import Any, Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed448 import Ed448PrivateKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from formats import FormatName, forge
from service.attacks import attacker
from service.attacks.context import DROP, Context
from service.attacks.contract import jwk_thumbprint
from service.attacks.model import (
    BAD_SIGNATURE,
    EDDSA,
    ES256,
    HS256,
    JWT_FORMATS,
    MALFORMED,
    PUBLIC,
    REJECT,
    REJECT_AND_STARTUP,
    UNKNOWN_KEY,
    Applicability,
    Attack,
    Expect,
    Observation,
    Outcome,
    Probe,
    Section,
    StartupCase,
    Verdict,
    Via,
    deployment,
    row,
    structural,
)

__all__ = ["ATTACKS"]

ACCEPTS: Final = Verdict.ACCEPTS
REJECTS: Final = Verdict.REJECTS
NO_UNSIGNED_PURPOSE: Final = structural(
    "PASETO has no unsigned purpose: only local (AEAD) and public (Ed25519)"
)
NO_ALG_HEADER: Final = structural("PASETO has no alg header: version and purpose fix the algorithm")
NO_HEADER_PARAMETERS: Final = structural(
    "PASETO has no header parameters (jwk, x5c, jku, crit): only v4.<purpose>."
)
ASYMMETRIC_JWT: Final = (ES256, EDDSA)
KEYCONF_STARTUP: Final = (
    "the public-key variant: a jwt-hs256 service configured with an ES256 or EdDSA public key as its secret"
)
KEYCONF_PROBES: Final = (
    "HS256 tokens MACed with the published key; the start-up variant is the HS256 column's"
)
"""The JWT formats that publish a public key (a JWKS) and verify signatures with it."""


def _jwt_parts(token: str) -> tuple[str, str, str]:
    header, payload, signature = token.split(".")
    return header, payload, signature


def _payload_segment(ctx: Context, **changes: Any) -> str:
    return forge.b64u(forge.json_bytes(ctx.claims(**changes)))


# --- JWT-ALG-NONE ------------------------------------------------------------------------------------


def alg_none(ctx: Context) -> Iterator[Probe]:
    """Unsigned tokens: alg none in four spellings; PASETO "v4.none" and an unsigned v4.public body."""
    payload = forge.json_bytes(ctx.claims())
    if ctx.format in JWT_FORMATS:
        for alg in ("none", "None", "NONE", "nOnE"):
            yield Probe(f'alg "{alg}", typ JWT', forge.jws({"alg": alg, "typ": "JWT"}, payload), MALFORMED)
        yield Probe(
            'alg "none" with the service kid and typ', forge.jws(ctx.header(alg="none"), payload), MALFORMED
        )
        return
    yield Probe('purpose "v4.none."', "v4.none." + forge.b64u(payload), MALFORMED)
    if ctx.format is PUBLIC:
        yield Probe(
            "v4.public body without signature",
            forge.paseto("v4.public.", payload, ctx.footer()),
            BAD_SIGNATURE,
        )


# --- JWT-NULL-SIG ------------------------------------------------------------------------------------


def null_signature(ctx: Context) -> Iterator[Probe]:
    """Signature or tag emptied, stripped or cut off, with genuine and forged payloads."""
    sample = ctx.sample()
    if ctx.format in JWT_FORMATS:
        header, payload, _ = _jwt_parts(sample)
        forged = _payload_segment(ctx)
        yield Probe("genuine token, signature segment emptied", f"{header}.{payload}.", BAD_SIGNATURE)
        yield Probe("forged payload, signature segment emptied", f"{header}.{forged}.", BAD_SIGNATURE)
        yield Probe("forged payload, signature segment removed", f"{header}.{forged}", MALFORMED)
        return
    header, body, footer = forge.paseto_split(sample)
    cut = 64 if ctx.format is PUBLIC else 32
    yield Probe(
        f"genuine token, {cut}-byte {'signature' if cut == 64 else 'tag'} cut off",
        forge.paseto(header, body[:-cut], footer),
        BAD_SIGNATURE,
    )
    if ctx.format is PUBLIC:
        message = forge.json_bytes(ctx.claims())
        yield Probe("forged payload, no signature", forge.paseto(header, message, footer), BAD_SIGNATURE)


# --- JWT-SIG-NOT-VERIFIED ---------------------------------------------------------------------------


def unverified_signature(ctx: Context) -> Iterator[Probe]:
    """Forged claims with the genuine signature kept (what a decode-only code path would accept)."""
    sample = ctx.sample()
    if ctx.format in JWT_FORMATS:
        header, _, signature = _jwt_parts(sample)
        yield Probe(
            "forged payload, genuine signature kept",
            f"{header}.{_payload_segment(ctx)}.{signature}",
            BAD_SIGNATURE,
        )
        return
    header, body, footer = forge.paseto_split(sample)
    if ctx.format is PUBLIC:
        forged = forge.json_bytes(ctx.claims())
        yield Probe(
            "forged message, genuine signature kept",
            forge.paseto(header, forged + body[-64:], footer),
            BAD_SIGNATURE,
        )
        return
    flipped = body[:40] + bytes([body[40] ^ 0x20]) + body[41:]
    yield Probe("one ciphertext bit flipped, tag kept", forge.paseto(header, flipped, footer), BAD_SIGNATURE)


# --- JWT-KEYCONF-ES-HS -------------------------------------------------------------------------------


def _public_spellings(ctx: Context) -> dict[str, bytes]:
    if ctx.format is EDDSA:
        raw = ctx.ed25519_public()
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": forge.b64u(raw), "alg": "EdDSA", "kid": ctx.kid}
        return attacker.public_key_spellings(Ed25519PublicKey.from_public_bytes(raw), jwk)
    public = ctx.ec_public_key()
    return attacker.public_key_spellings(public, attacker.ec_jwk_public(public, kid=ctx.kid))


def key_confusion(ctx: Context) -> Iterator[Probe]:
    """HS256 tokens MACed with the service's published public key (ES256, EdDSA) in every common spelling."""
    if ctx.format not in ASYMMETRIC_JWT:
        return
    payload = ctx.claims()
    for spelling, secret in _public_spellings(ctx).items():
        header = ctx.header(alg="HS256")
        yield Probe(
            f"HS256 MAC keyed with the public key ({spelling})",
            forge.jws(header, payload, sign=forge.hmac_signer(secret)),
            MALFORMED,
        )
    pem = _public_spellings(ctx)["PEM SPKI"]
    yield Probe(
        'HS256 MAC keyed with the PEM, header {"alg","typ"} only',
        forge.jws({"alg": "HS256", "typ": "JWT"}, payload, sign=forge.hmac_signer(pem)),
        MALFORMED,
    )


def _hs256_jwk(secret: bytes) -> str:
    jwk = {"kty": "oct", "k": forge.b64u(secret)}
    return json.dumps({**jwk, "alg": "HS256", "kid": jwk_thumbprint(jwk)})


def _hmac_key_check(secret: bytes) -> object:
    """Pyjwt given ``secret`` as its HS256 key: verify a token MACed with it."""
    import jwt  # noqa: PLC0415 - only the library checks need pyjwt

    token = forge.jws({"alg": "HS256", "typ": "JWT"}, {"sub": "x"}, sign=forge.hmac_signer(secret))
    return jwt.decode(token, secret, algorithms=["HS256"])


def _confusable_public_keys() -> Iterator[tuple[str, dict[str, bytes], dict[str, Verdict], dict[str, str]]]:
    """Each published key type, its public key's spellings, what pyjwt does with each, and files beside it."""
    private = ec.generate_private_key(ec.SECP256R1())
    spellings = attacker.public_key_spellings(
        private.public_key(), attacker.ec_jwk_public(private.public_key(), kid="es256-public")
    )
    yield ES256.value, spellings, {"raw 65-byte point": ACCEPTS}, {}
    secret_key = attacker.ed25519_keypair()[0]
    public = Ed25519PrivateKey.from_private_bytes(secret_key[:32]).public_key()
    jwk = attacker.okp_jwk(secret_key, kid="eddsa-key", private=False)
    beside = {
        "jwt-eddsa/eddsa-key.jwk": attacker.key_file(attacker.okp_jwk(secret_key, kid="", private=True))
    }
    yield EDDSA.value, attacker.public_key_spellings(public, jwk), {"raw 32-byte public key": ACCEPTS}, beside


def key_confusion_startup(name: FormatName) -> Iterator[StartupCase]:
    """The ES256 or EdDSA public key configured as the HS256 secret (a format flag flipped without new keys).

    The service that must refuse is a jwt-hs256 one, so the cases are the HS256 column's (a start-up case
    counts in the column of the service it starts). The Ed25519 key's key file stays in the key directory
    (as it does when only the format flag changes): its raw 32 public bytes look as random as a secret, so
    only comparing with the keys beside it can tell.
    """
    if name is not HS256:
        return
    for source, spellings, recorded, beside in _confusable_public_keys():
        label = "ES256" if source == ES256.value else "EdDSA"
        for spelling, secret in spellings.items():
            yield StartupCase(
                f"secret = the {label} public key ({spelling})",
                HS256,
                files={**beside, f"jwt-hs256/{source}-public.jwk": _hs256_jwk(secret)},
                library=partial(_hmac_key_check, secret),
                library_expect=recorded.get(spelling, REJECTS),
            )


# --- JWT-ALG-NOT-ALLOWED -----------------------------------------------------------------------------


def alg_not_allowed(ctx: Context) -> Iterator[Probe]:
    """Another algorithm of the family, or the right one misspelled, signed with the real key."""
    if ctx.format not in JWT_FORMATS:
        return
    key = ctx.require_key()
    payload = ctx.claims()
    if ctx.format is HS256:
        secret = key.hmac_secret
        for alg, hash_name in (
            ("HS384", "sha384"),
            ("HS512", "sha512"),
            ("hs256", "sha256"),
            ("HS256 ", "sha256"),
        ):
            token = forge.jws(ctx.header(alg=alg), payload, sign=forge.hmac_signer(secret, hash_name))
            yield Probe(f'alg "{alg}" MACed with the real secret', token, MALFORMED)
        foreign = forge.ecdsa_signer(ec.generate_private_key(ec.SECP256R1()))
        yield Probe(
            'alg "ES256" on the HS256 service',
            forge.jws(ctx.header(alg="ES256"), payload, sign=foreign),
            MALFORMED,
        )
        return
    if ctx.format is EDDSA:
        sign = key.sign  # the real Ed25519 key under other labels, including RFC 9864's "Ed25519"
        for alg in ("Ed25519", "Ed448", "eddsa", "EdDSA "):
            yield Probe(
                f'alg "{alg}" signed with the real key',
                forge.jws(ctx.header(alg=alg), payload, sign=sign),
                MALFORMED,
            )
        return
    private = key.ec_private
    algorithms: tuple[tuple[str, hashes.HashAlgorithm], ...] = (
        ("ES384", hashes.SHA384()),
        ("ES512", hashes.SHA512()),
        ("es256", hashes.SHA256()),
        ("ES256 ", hashes.SHA256()),
    )
    for alg, digest in algorithms:
        token = forge.jws(ctx.header(alg=alg), payload, sign=forge.ecdsa_signer(private, digest))
        yield Probe(f'alg "{alg}" signed with the real key', token, MALFORMED)


# --- JWT-ES-CURVE-MISMATCH ---------------------------------------------------------------------------


def curve_mismatch(ctx: Context) -> Iterator[Probe]:
    """ES256-labelled signatures made on other curves, EdDSA-labelled ones made with Ed448; service kid."""
    payload = ctx.claims()
    if ctx.format is EDDSA:
        ed448 = Ed448PrivateKey.generate()
        yield Probe(
            "EdDSA header, signed with Ed448 (114-byte signature)",
            forge.jws(ctx.header(), payload, sign=ed448.sign),
            BAD_SIGNATURE,
        )
        return
    if ctx.format is not ES256:
        return
    for curve, label in ((ec.SECP256K1(), "secp256k1"), (ec.SECP384R1(), "P-384")):
        sign = forge.ecdsa_signer(ec.generate_private_key(curve), hashes.SHA256())
        yield Probe(
            f"ES256 header, signed on {label}", forge.jws(ctx.header(), payload, sign=sign), BAD_SIGNATURE
        )


def _es256_curve_check(curve: ec.EllipticCurve) -> object:
    """Pyjwt given a key on ``curve`` under algorithms=["ES256"]."""
    import jwt  # noqa: PLC0415 - only the library checks need pyjwt

    private = ec.generate_private_key(curve)
    token = forge.jws({"alg": "ES256", "typ": "JWT"}, {"sub": "x"}, sign=forge.ecdsa_signer(private))
    return jwt.decode(token, private.public_key(), algorithms=["ES256"])


def _eddsa_ed448_check() -> object:
    """Pyjwt given an Ed448 key under algorithms=["EdDSA"] (RFC 8037's EdDSA names both curves)."""
    import jwt  # noqa: PLC0415 - only the library checks need pyjwt

    private = Ed448PrivateKey.generate()
    token = forge.jws({"alg": "EdDSA", "typ": "JWT"}, {"sub": "x"}, sign=private.sign)
    return jwt.decode(token, private.public_key(), algorithms=["EdDSA"])


def curve_mismatch_startup(name: FormatName) -> Iterator[StartupCase]:
    """An ES256 key ring holding a P-384 or secp256k1 key; a jwt-eddsa ring holding an Ed448 or X25519 key."""
    if name is EDDSA:
        ed448, x25519 = Ed448PrivateKey.generate(), X25519PrivateKey.generate()
        for crv, private, public, library, expect in (
            (
                "Ed448",
                ed448.private_bytes_raw(),
                ed448.public_key().public_bytes_raw(),
                _eddsa_ed448_check,
                ACCEPTS,
            ),
            ("X25519", x25519.private_bytes_raw(), x25519.public_key().public_bytes_raw(), None, None),
        ):
            jwk = {
                "kty": "OKP",
                "crv": crv,
                "x": forge.b64u(public),
                "d": forge.b64u(private),
                "kid": f"wrong-{crv}",
            }
            yield StartupCase(
                f"jwt-eddsa key on {crv}",
                EDDSA,
                files={f"jwt-eddsa/{crv}.jwk": attacker.key_file(jwk)},
                library=library,
                library_expect=expect,
            )
        return
    if name is not ES256:
        return
    for curve, crv in ((ec.SECP384R1(), "P-384"), (ec.SECP256K1(), "secp256k1")):
        jwk = attacker.ec_jwk(ec.generate_private_key(curve), kid="", private=True, crv=crv)
        yield StartupCase(
            f"jwt-es256 key on {crv}",
            ES256,
            files={f"jwt-es256/{crv}.jwk": attacker.key_file(jwk)},
            library=partial(_es256_curve_check, curve),
            library_expect=REJECTS,
        )


# --- JWT-EMBEDDED-JWK, JWT-X5C-INJECTION, JWT-JKU-INJECTION -----------------------------------------


def embedded_jwk(ctx: Context) -> Iterator[Probe]:
    """The attacker's key embedded in the header (jwk) and used to sign the token."""
    if ctx.format not in JWT_FORMATS:
        return
    payload = ctx.claims()
    secret = secrets.token_bytes(32)
    oct_jwk = {"kty": "oct", "k": forge.b64u(secret)}
    yield Probe(
        "HS256 with an embedded oct jwk",
        forge.jws(ctx.header(alg="HS256", jwk=oct_jwk), payload, sign=forge.hmac_signer(secret)),
        MALFORMED,
    )
    if ctx.format is EDDSA:
        secret_key = attacker.ed25519_keypair()[0]
        okp = attacker.okp_jwk(secret_key, kid="attacker", private=False)
        yield Probe(
            "EdDSA with an embedded Ed25519 jwk, service kid",
            forge.jws(ctx.header(jwk=okp), payload, sign=forge.ed25519_signer(secret_key)),
            MALFORMED,
        )
    if ctx.format is ES256:
        private = ec.generate_private_key(ec.SECP256R1())
        jwk = attacker.ec_jwk(private, kid="attacker", private=False)
        sign = forge.ecdsa_signer(private)
        yield Probe(
            "ES256 with an embedded P-256 jwk, service kid",
            forge.jws(ctx.header(jwk=jwk), payload, sign=sign),
            MALFORMED,
        )
        yield Probe(
            "ES256 with an embedded P-256 jwk, no kid",
            forge.jws(ctx.header(jwk=jwk, kid=DROP), payload, sign=sign),
            MALFORMED,
        )


def x5c_injection(ctx: Context) -> Iterator[Probe]:
    """A self-signed attacker certificate in x5c."""
    if ctx.format not in ASYMMETRIC_JWT:
        return
    import base64  # noqa: PLC0415 - x5c is standard base64, used nowhere else

    sign: forge.Signer
    if ctx.format is EDDSA:
        ed_private = Ed25519PrivateKey.generate()
        certificate, sign = attacker.self_signed_certificate(ed_private), ed_private.sign
    else:
        private = ec.generate_private_key(ec.SECP256R1())
        certificate, sign = attacker.self_signed_certificate(private), forge.ecdsa_signer(private)
    chain = [base64.b64encode(certificate).decode()]
    yield Probe(
        "self-signed x5c, service kid", forge.jws(ctx.header(x5c=chain), ctx.claims(), sign=sign), MALFORMED
    )


def jku_injection(ctx: Context) -> Iterator[Probe]:
    """Jku / x5u pointing at an attacker-hosted key set (a loopback listener that counts requests)."""
    if ctx.format not in ASYMMETRIC_JWT:
        return
    if ctx.format is EDDSA:
        sign = forge.ed25519_signer(attacker.ed25519_keypair()[0])
    else:
        sign = forge.ecdsa_signer(ec.generate_private_key(ec.SECP256R1()))
    payload = ctx.claims()
    yield Probe(
        "jku to the attacker's JWKS, kid attacker",
        forge.jws(ctx.header(kid="attacker", jku=ctx.jku_url), payload, sign=sign),
        MALFORMED,
    )
    yield Probe(
        "jku to the attacker's JWKS, service kid",
        forge.jws(ctx.header(jku=ctx.jku_url), payload, sign=sign),
        MALFORMED,
    )
    yield Probe(
        "x5u to the attacker's certificate",
        forge.jws(ctx.header(kid="attacker", x5u=ctx.jku_url), payload, sign=sign),
        MALFORMED,
    )


def jku_not_fetched(ctx: Context) -> Iterator[Observation]:
    """The jku/x5u URL was never requested (no SSRF)."""
    if ctx.format not in ASYMMETRIC_JWT or ctx.jku_hits is None:
        return
    hits = ctx.jku_hits()
    if hits:
        yield Observation("jku/x5u URL fetched by the service", Outcome.ACCEPTED, f"{hits} request(s)", "0")
    else:
        yield Observation("jku/x5u URL fetched by the service", Outcome.HELD, "0 requests", "0")


# --- JWT-PSYCHIC-SIG ---------------------------------------------------------------------------------


def psychic_signature(ctx: Context) -> Iterator[Probe]:
    """Degenerate signatures: zero, n||n, n||1 (ECDSA); zero MAC tag; zero Ed25519 signature."""
    if ctx.format in JWT_FORMATS:
        header, payload = ctx.header(), ctx.claims()
        if ctx.format is ES256:
            n = attacker.P256_ORDER.to_bytes(32, "big")
            cases = {"r = s = 0": bytes(64), "r = s = n": n + n, "r = n, s = 1": n + (1).to_bytes(32, "big")}
        elif ctx.format is EDDSA:
            identity = (1).to_bytes(32, "little")  # the neutral point's encoding
            cases = {
                "all-zero Ed25519 signature": bytes(64),
                "R = neutral point, S = 0": identity + bytes(32),
            }
        else:
            cases = {"all-zero 32-byte MAC": bytes(32)}
        for label, signature in cases.items():
            yield Probe(label, forge.jws(header, payload, signature=signature), BAD_SIGNATURE)
        return
    message = forge.json_bytes(ctx.claims())
    if ctx.format is PUBLIC:
        yield Probe(
            "all-zero Ed25519 signature",
            forge.paseto("v4.public.", message + bytes(64), ctx.footer()),
            BAD_SIGNATURE,
        )
        return
    body = secrets.token_bytes(32) + secrets.token_bytes(len(message)) + bytes(32)
    yield Probe("all-zero 32-byte tag", forge.paseto("v4.local.", body, ctx.footer()), BAD_SIGNATURE)


# --- JWT-ES-SIG-FORMAT -------------------------------------------------------------------------------


def signature_encoding(ctx: Context) -> Iterator[Probe]:
    """The genuine ECDSA signature in DER, truncated or extended instead of the 64-byte r||s."""
    if ctx.format is not ES256:
        return
    header, payload, signature = _jwt_parts(ctx.sample())
    raw = forge.b64u_lenient(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    for label, value in (
        ("DER SEQUENCE(r, s)", der),
        ("truncated to 63 bytes", raw[:63]),
        ("extended to 65 bytes", raw + b"\x00"),
    ):
        yield Probe(f"genuine signature {label}", f"{header}.{payload}.{forge.b64u(value)}", BAD_SIGNATURE)


# --- JWT-CRIT-UNKNOWN --------------------------------------------------------------------------------


def critical_header(ctx: Context) -> Iterator[Probe]:
    """Validly signed tokens whose header carries critical extensions the verifier cannot understand."""
    if ctx.format not in JWT_FORMATS:
        return
    ext = "urn:example:must-understand"
    payload = ctx.claims()
    yield Probe(
        "crit with an unknown extension",
        ctx.mint(payload, header={**ctx.header(), "crit": [ext], ext: True}),
        MALFORMED,
    )
    yield Probe(
        "b64 false, crit [b64], attached payload",
        ctx.mint(payload, header=ctx.header(b64=False, crit=["b64"])),
        MALFORMED,
    )


# --- TOKEN-HEADER-FOOTER-TAMPER ---------------------------------------------------------------------


def header_footer_tamper(ctx: Context) -> Iterator[Probe]:
    """The protected header or the footer changed, re-spelled or dropped, with the signature kept."""
    sample = ctx.sample()
    if ctx.format in JWT_FORMATS:
        _, payload, signature = _jwt_parts(sample)
        header = ctx.header()

        def with_header(value: forge.Piece) -> str:
            return f"{forge.b64u(forge.json_bytes(value))}.{payload}.{signature}"

        yield Probe('kid changed to "other-key"', with_header({**header, "kid": "other-key"}), UNKNOWN_KEY)
        yield Probe('typ changed to "JWT"', with_header({**header, "typ": "JWT"}), MALFORMED)
        yield Probe(
            "typ changed to rt+jwt, presented as a refresh token",
            with_header({**header, "typ": "rt+jwt"}),
            BAD_SIGNATURE,
            via=Via.COOKIE,
        )
        yield Probe(
            "same header members, another order", with_header(dict(reversed(header.items()))), BAD_SIGNATURE
        )
        return
    head, body, footer = forge.paseto_split(sample)
    kid = json.loads(footer)["kid"]
    yield Probe('footer kid changed to "k-2"', forge.paseto(head, body, b'{"kid":"k-2"}'), UNKNOWN_KEY)
    yield Probe("footer dropped", forge.paseto(head, body), UNKNOWN_KEY)
    yield Probe(
        "footer re-spelled with a space, same kid",
        forge.paseto(head, body, f'{{"kid": "{kid}"}}'.encode()),
        BAD_SIGNATURE,
    )
    yield Probe(
        "footer with an extra member",
        forge.paseto(head, body, forge.json_bytes({"kid": kid, "x": 1})),
        MALFORMED,
    )


# --- rows --------------------------------------------------------------------------------------------

ATTACKS: Final = (
    Attack(
        "JWT-ALG-NONE",
        "Unsigned token accepted because the header says alg=none",
        Section.SIGNATURE,
        row(REJECT, REJECT, REJECT, NO_UNSIGNED_PURPOSE, NO_UNSIGNED_PURPOSE),
        probes=alg_none,
        library_note="pyjwt rejects every spelling (allow-list); only verify_signature=False lets it in.",
    ),
    Attack(
        "JWT-NULL-SIG",
        "Real algorithm kept but signature emptied or stripped",
        Section.SIGNATURE,
        row(REJECT, REJECT, REJECT, REJECT, REJECT),
        probes=null_signature,
    ),
    Attack(
        "JWT-SIG-NOT-VERIFIED",
        "Claims read without verifying the signature (forged payload, genuine signature)",
        Section.SIGNATURE,
        row(REJECT, REJECT, REJECT, REJECT, REJECT),
        probes=unverified_signature,
        library_note="Rejected by default; pyjwt with verify_signature=False returns the forged claims.",
    ),
    Attack(
        "JWT-KEYCONF-ES-HS",
        "Algorithm/key confusion: HS256 MAC keyed with the service's ES256 or EdDSA public key",
        Section.SIGNATURE,
        row(
            Applicability(Expect.STARTUP, KEYCONF_STARTUP),
            Applicability(Expect.REJECT, KEYCONF_PROBES),
            Applicability(Expect.REJECT, KEYCONF_PROBES),
            NO_ALG_HEADER,
            NO_ALG_HEADER,
        ),
        probes=key_confusion,
        startup=key_confusion_startup,
        library_note="pyjwt with algorithms=['HS256'] refuses PEM/SSH/DER/JWK-text keys, not the raw point.",
    ),
    Attack(
        "JWT-ALG-NOT-ALLOWED",
        "Another algorithm of the family, or case/whitespace games, signed with the real key",
        Section.SIGNATURE,
        row(REJECT, REJECT, REJECT, NO_ALG_HEADER, NO_ALG_HEADER),
        probes=alg_not_allowed,
    ),
    Attack(
        "JWT-ES-CURVE-MISMATCH",
        "Signature label used with a key on another curve (ES256: secp256k1, P-384; EdDSA: Ed448, X25519)",
        Section.SIGNATURE,
        row(
            deployment("an HS256 service has no curve"),
            REJECT_AND_STARTUP,
            REJECT_AND_STARTUP,
            deployment("v4.local has no signature curve"),
            structural("v4.public is Ed25519 only: the version fixes the curve"),
        ),
        probes=curve_mismatch,
        startup=curve_mismatch_startup,
    ),
    Attack(
        "JWT-EMBEDDED-JWK",
        "Attacker key embedded in the header (jwk) and used to verify the token itself",
        Section.SIGNATURE,
        row(REJECT, REJECT, REJECT, NO_HEADER_PARAMETERS, NO_HEADER_PARAMETERS),
        probes=embedded_jwk,
        library_note="pyjwt ignores a header jwk; an application building PyJWK(header['jwk']) lets it in.",
    ),
    Attack(
        "JWT-X5C-INJECTION",
        "Attacker self-signed certificate chain in x5c used as the verification key",
        Section.SIGNATURE,
        row(
            deployment("an HS256 service verifies with a shared secret, never a certificate"),
            REJECT,
            REJECT,
            NO_HEADER_PARAMETERS,
            NO_HEADER_PARAMETERS,
        ),
        probes=x5c_injection,
    ),
    Attack(
        "JWT-JKU-INJECTION",
        "Header jku/x5u points the verifier at an attacker-hosted key set (and an SSRF sink)",
        Section.SIGNATURE,
        row(
            deployment("an HS256 service has no key set to fetch"),
            REJECT,
            REJECT,
            NO_HEADER_PARAMETERS,
            NO_HEADER_PARAMETERS,
        ),
        probes=jku_injection,
        check=jku_not_fetched,
        library_note="pyjwt never dereferences jku/x5u; passing the header URL to PyJWKClient lets it in.",
    ),
    Attack(
        "JWT-PSYCHIC-SIG",
        "Degenerate signatures: ECDSA r=s=0 / n, all-zero MAC tag or Ed25519 signature",
        Section.SIGNATURE,
        row(REJECT, REJECT, REJECT, REJECT, REJECT),
        probes=psychic_signature,
    ),
    Attack(
        "JWT-ES-SIG-FORMAT",
        "ECDSA signature DER-encoded or of the wrong length instead of raw r||s",
        Section.SIGNATURE,
        row(
            deployment("an HMAC tag has one encoding"),
            REJECT,
            structural("Ed25519 signatures have exactly one 64-byte encoding"),
            deployment("v4.local has a fixed 32-byte tag, no signature encoding"),
            structural("Ed25519 signatures have exactly one 64-byte encoding"),
        ),
        probes=signature_encoding,
    ),
    Attack(
        "JWT-CRIT-UNKNOWN",
        "Validly signed token with a critical header extension the verifier does not understand",
        Section.SIGNATURE,
        row(REJECT, REJECT, REJECT, NO_HEADER_PARAMETERS, NO_HEADER_PARAMETERS),
        probes=critical_header,
    ),
    Attack(
        "TOKEN-HEADER-FOOTER-TAMPER",
        "Protected header (kid/typ) or PASETO footer modified or stripped, signature kept",
        Section.SIGNATURE,
        row(REJECT, REJECT, REJECT, REJECT, REJECT),
        probes=header_footer_tamper,
    ),
)
