"""Catalog section "Claims & lifecycle": times, audience, issuer, types, kinds, and refresh sessions."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from functools import partial
from typing import Any, Final

import jwt
import pyseto

from formats import FormatName, Kind, forge
from service.attacks.context import DROP, Context, KeyMaterial, read_claims
from service.attacks.library import fresh_key, library_decode, pyseto_key
from service.attacks.model import (
    ALL_FORMATS,
    CLAIMS_INVALID,
    EXPIRED,
    JWT_FORMATS,
    MALFORMED,
    NOT_YET_VALID,
    REJECT,
    REVOKED,
    STARTUP,
    WRONG_KIND,
    Applicability,
    Attack,
    Expect,
    LibraryObservation,
    NotThisDeploymentError,
    Observation,
    Outcome,
    Probe,
    Profile,
    Section,
    StartupCase,
    Verdict,
    Via,
    every,
    policy,
)

__all__ = ["ATTACKS", "raw_claim"]

ACCEPTS: Final = Verdict.ACCEPTS
REJECTS: Final = Verdict.REJECTS
_MARK: Final = "@@raw-claim@@"


def raw_claim(ctx: Context, name: str, raw: bytes, **changes: Any) -> bytes:
    """Claims JSON whose ``name`` member is the raw JSON text ``raw`` (which may not even be JSON)."""
    encoded = forge.json_bytes(ctx.claims(**{name: _MARK, **changes}))
    return encoded.replace(json.dumps(_MARK).encode(), raw)


def _by_library(ctx: Context, jwt_verdict: Verdict, paseto_verdict: Verdict) -> Verdict:
    return jwt_verdict if ctx.format in JWT_FORMATS else paseto_verdict


# --- times -------------------------------------------------------------------------------------------


def exp_past(ctx: Context) -> Iterator[Probe]:
    """Validly signed, expired an hour ago, and just beyond the largest leeway the service allows."""
    yield Probe(
        "exp one hour ago", ctx.forge_claims(iat=ctx.at(-7200), nbf=ctx.at(-7200), exp=ctx.at(-3600)), EXPIRED
    )
    yield Probe(
        "exp 301 s ago (beyond any allowed leeway)",
        ctx.forge_claims(iat=ctx.at(-900), nbf=ctx.at(-900), exp=ctx.at(-301)),
        EXPIRED,
    )


def exp_missing(ctx: Context) -> Iterator[Probe]:
    """No exp at all: a token that would never expire."""
    yield Probe("no exp claim", ctx.forge_claims(exp=DROP), CLAIMS_INVALID, library=ACCEPTS)


def nbf_future(ctx: Context) -> Iterator[Probe]:
    """Nbf an hour ahead."""
    yield Probe("nbf one hour ahead", ctx.forge_claims(nbf=ctx.at(3600)), NOT_YET_VALID)


def iat_future(ctx: Context) -> Iterator[Probe]:
    """Issued an hour in the future (pre-minted tokens, a clock attack on the issuer)."""
    token = ctx.forge_claims(iat=ctx.at(3600), nbf=DROP, exp=ctx.at(7200))
    yield Probe("iat one hour ahead", token, NOT_YET_VALID, library=_by_library(ctx, REJECTS, ACCEPTS))


JWT_EXP_VALUES: Final = (
    ("numeric string", b'"9999999999"', CLAIMS_INVALID, ACCEPTS),
    ("numeric string with underscores", b'"99_999_999_999"', CLAIMS_INVALID, ACCEPTS),
    ("numeric string with spaces", b'" 9999999999 "', CLAIMS_INVALID, ACCEPTS),
    ("float 1e300", b"1e300", CLAIMS_INVALID, ACCEPTS),
    ("integer 10**30", b"1" + b"0" * 30, CLAIMS_INVALID, ACCEPTS),
    ("true", b"true", CLAIMS_INVALID, REJECTS),
    ("NaN", b"NaN", MALFORMED, REJECTS),
    ("Infinity", b"Infinity", MALFORMED, REJECTS),
    ("[]", b"[]", CLAIMS_INVALID, REJECTS),
)
PASETO_EXP_VALUES: Final = (
    ("JSON number", b"4102444800", CLAIMS_INVALID, REJECTS),
    ("date only", b'"2100-01-01"', CLAIMS_INVALID, ACCEPTS),
    ("no offset", b'"2100-01-01T00:00:00"', CLAIMS_INVALID, ACCEPTS),
    ("lower-case t and z", b'"2100-01-01t00:00:00z"', CLAIMS_INVALID, REJECTS),
    ("ISO 8601 basic format", b'"21000101T000000Z"', CLAIMS_INVALID, ACCEPTS),
    ("space instead of T", b'"2100-01-01 00:00:00Z"', CLAIMS_INVALID, ACCEPTS),
    ("month 13", b'"2100-13-01T00:00:00Z"', CLAIMS_INVALID, REJECTS),
    ("[]", b"[]", CLAIMS_INVALID, REJECTS),
)


def exp_type(ctx: Context) -> Iterator[Probe]:
    """Exp of the wrong JSON type or spelling, validly signed (an issuer bug or a co-issuer)."""
    values = JWT_EXP_VALUES if ctx.format in JWT_FORMATS else PASETO_EXP_VALUES
    for label, raw, code, verdict in values:
        yield Probe(f"exp = {label}", ctx.mint(raw_claim(ctx, "exp", raw)), code, library=verdict)


# --- audience, issuer, types -------------------------------------------------------------------------


def aud_mismatch(ctx: Context) -> Iterator[Probe]:
    """A token for another audience, without one, and with a list."""
    ctx.require_key()
    if ctx.profile is Profile.SERVICE and ctx.audience is None:
        raise NotThisDeploymentError("no audience configured (TOKENBENCH_AUDIENCE unset)")
    audience = ctx.audience or "tokenbench-api"
    yield Probe(
        'aud "other-api.example"',
        ctx.forge_claims(aud="other-api.example"),
        CLAIMS_INVALID,
        library=_by_library(ctx, REJECTS, ACCEPTS),
    )
    yield Probe("aud missing", ctx.forge_claims(aud=DROP), CLAIMS_INVALID, library=ACCEPTS)
    yield Probe(
        "aud as a list with the right audience",
        ctx.forge_claims(aud=[audience, "other-api.example"]),
        CLAIMS_INVALID,
        library=_by_library(ctx, REJECTS, ACCEPTS),
    )


def iss_mismatch(ctx: Context) -> Iterator[Probe]:
    """A token from another issuer, from a prefix of ours, without one, and with a list."""
    ctx.require_key()
    if ctx.profile is Profile.SERVICE and ctx.issuer is None:
        raise NotThisDeploymentError("no issuer configured (TOKENBENCH_ISSUER unset)")
    issuer = ctx.issuer or "https://tokenbench.local"
    yield Probe('iss "evil.example"', ctx.forge_claims(iss="evil.example"), CLAIMS_INVALID, library=ACCEPTS)
    yield Probe(
        "iss a prefix of the configured issuer",
        ctx.forge_claims(iss=issuer[:-1]),
        CLAIMS_INVALID,
        library=ACCEPTS,
    )
    yield Probe("iss missing", ctx.forge_claims(iss=DROP), CLAIMS_INVALID, library=ACCEPTS)
    yield Probe("iss as a list", ctx.forge_claims(iss=[issuer]), CLAIMS_INVALID, library=ACCEPTS)


TYPE_CHANGES: Final = (
    ("sub = 1", {"sub": 1}, REJECTS),
    ('sub = ["alice", "admin"]', {"sub": ["alice", "admin"]}, REJECTS),
    ("jti = 7", {"jti": 7}, REJECTS),
    ('role = ["user", "admin"]', {"role": ["user", "admin"]}, ACCEPTS),
    ('role = ""', {"role": ""}, ACCEPTS),
    ('perms = "admin:all" (a string)', {"perms": "admin:all"}, ACCEPTS),
    ("perms = [1]", {"perms": [1]}, ACCEPTS),
)


def claim_types(ctx: Context) -> Iterator[Probe]:
    """Registered and private claims of the wrong JSON type, validly signed."""
    for label, changes, jwt_verdict in TYPE_CHANGES:
        yield Probe(
            label, ctx.forge_claims(**changes), CLAIMS_INVALID, library=_by_library(ctx, jwt_verdict, ACCEPTS)
        )


# --- kinds -------------------------------------------------------------------------------------------


def type_confusion(ctx: Context) -> Iterator[Probe]:
    """A refresh token as the bearer token, and an access token as the refresh cookie."""
    yield Probe(
        "genuine refresh token as the bearer token", ctx.sample(Kind.REFRESH), WRONG_KIND, library=ACCEPTS
    )
    yield Probe(
        "genuine access token as the refresh cookie",
        ctx.sample(Kind.ACCESS),
        WRONG_KIND,
        via=Via.COOKIE,
        library=ACCEPTS,
    )


# --- refresh sessions --------------------------------------------------------------------------------


def _identity(ctx: Context, token: str | None) -> tuple[object, ...] | str | None:
    """What identifies a refresh token: (jti, fam, ver) when readable, else the string."""
    if token is None:
        return None
    claims = read_claims(ctx.format, token, ctx.key)
    return token if claims is None else (claims.get("jti"), claims.get("fam"), claims.get("ver"))


def replay_after_rotation(ctx: Context) -> Iterator[Observation]:
    """R1 -> R2; after the grace window R1 again (theft): 401 and the family is revoked, so R2 fails too."""
    api = ctx.require_http()
    session = api.login()
    rotated = api.refresh(session.refresh)
    if rotated.status != 200 or rotated.refresh_token is None:
        yield api.judge("first rotation R1 -> R2 (setup)", rotated, "200")
        return
    api.advance(api.refresh_grace + 1)
    yield api.judge("R1 presented after the grace window", api.refresh(session.refresh), REVOKED)
    yield api.judge("R2 after the reuse (family revoked)", api.refresh(rotated.refresh_token), REVOKED)


def concurrent_refresh(ctx: Context) -> Iterator[Observation]:
    """Two simultaneous refreshes with one token: one lineage at most (one winner, or the same successor)."""
    api = ctx.require_http()
    session = api.login()
    barrier = threading.Barrier(2)
    replies: list[Any] = [None, None]

    def refresh(i: int) -> None:
        barrier.wait()
        replies[i] = api.refresh(session.refresh)

    threads = [threading.Thread(target=refresh, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ok = [r for r in replies if r is not None and r.status == 200]
    seen = " and ".join(str(r.status) if r.code is None else f"{r.status} {r.code}" for r in replies)
    successors = {_identity(ctx, r.refresh_token) for r in ok}
    if any(r is None or r.status >= 500 for r in replies):
        yield Observation("two concurrent refreshes of one token", Outcome.ERROR, seen, "one lineage")
    elif len(successors) > 1:
        yield Observation(
            "two concurrent refreshes of one token",
            Outcome.ACCEPTED,
            f"{seen}: two different successors (two lineages)",
            "one lineage",
        )
    elif len(ok) == 2:
        yield Observation(
            "two concurrent refreshes of one token",
            Outcome.HELD,
            f"{seen}: the same successor (benign retry, one lineage)",
            "one lineage",
        )
    else:
        yield Observation(
            "two concurrent refreshes of one token", Outcome.HELD, f"{seen}: one winner", "one lineage"
        )


def revoked_access(ctx: Context) -> Iterator[Observation]:
    """After logout and logout-all the access token lives on until exp (stateless by design), then 401."""
    api = ctx.require_http()
    session = api.login()
    logout = api.logout(session.refresh)
    if logout.status != 204:
        yield api.judge("logout (setup)", logout, "204")
        return
    yield api.judge("the refresh token after logout", api.refresh(session.refresh), REVOKED)
    me = api.me(session.access)
    outcome = Outcome.POLICY if me.status == 200 else Outcome.REJECTED if me.status == 401 else Outcome.ERROR
    yield Observation(
        "the access token right after logout",
        outcome,
        str(me.status) + (f" {me.code}" if me.code else ""),
        "valid until exp",
    )
    api.advance(api.access_ttl + 301)
    yield api.judge("the access token after exp + leeway", api.me(session.access), EXPIRED)


def rotated_token_still_verifies(name: FormatName) -> Iterator[LibraryObservation]:
    """The library has no session state: a rotated, logged-out or raced refresh token still verifies."""
    key = fresh_key(name)
    token = Context.for_library(name, key).sample(Kind.REFRESH)
    verdict, detail = library_decode(key, token)
    yield LibraryObservation("a refresh token after rotation or logout", verdict, detail, ACCEPTS)


def revoked_access_library(name: FormatName) -> Iterator[LibraryObservation]:
    """The library has no revocation: an access token of a logged-out session verifies."""
    key = fresh_key(name)
    verdict, detail = library_decode(key, Context.for_library(name, key).sample(Kind.ACCESS))
    yield LibraryObservation("an access token after logout", verdict, detail, ACCEPTS)


# --- leeway ------------------------------------------------------------------------------------------


def _library_with_leeway(name: FormatName, key: KeyMaterial, leeway: int) -> object:
    """The ordinary call given ``leeway``, on a token that expired ``leeway - 1`` seconds ago."""
    ctx = Context.for_library(name, key)
    token = ctx.forge_claims(iat=ctx.at(-leeway - 600), nbf=ctx.at(-leeway - 600), exp=ctx.at(1 - leeway))
    if name is FormatName.JWT_HS256:
        return jwt.decode(token, key.hmac_secret, algorithms=["HS256"], leeway=leeway)
    if name is FormatName.JWT_ES256:
        return jwt.decode(token, key.ec_public_pem, algorithms=["ES256"], leeway=leeway)
    if name is FormatName.JWT_EDDSA:
        return jwt.decode(token, key.ed25519_public_pem, algorithms=["EdDSA"], leeway=leeway)
    return pyseto.Paseto.new(leeway=leeway).decode(pyseto_key(key), token, deserializer=json)


def leeway_abuse(name: FormatName) -> Iterator[StartupCase]:
    """A leeway of a day, of 30000 (milliseconds meant as seconds), and just over the cap."""
    for value, label in (
        ("86400", "one day"),
        ("30000", "30 s written in ms"),
        ("301", "one second over the cap"),
    ):
        key = fresh_key(name)
        yield StartupCase(
            f"TOKENBENCH_LEEWAY={value} ({label})",
            name,
            env={"TOKENBENCH_LEEWAY": value},
            with_valid_key=True,
            library=partial(_library_with_leeway, name, key, int(value)),
            library_expect=ACCEPTS,
        )


STATELESS: Final = policy(
    "access tokens are stateless by design (docs/design.md): logout revokes the refresh family at once, "
    "the access token at its exp (TOKENBENCH_ACCESS_TTL)"
)

ATTACKS: Final = (
    Attack("CLAIM-EXP-PAST", "Expired token accepted", Section.CLAIMS, every(REJECT), probes=exp_past),
    Attack(
        "CLAIM-EXP-MISSING",
        "Token without exp treated as never-expiring",
        Section.CLAIMS,
        every(REJECT),
        probes=exp_missing,
        library_note="pyjwt requires nothing unless options={'require': [...]}; pyseto has no such option.",
    ),
    Attack(
        "CLAIM-NBF-FUTURE", "Not-yet-valid token accepted", Section.CLAIMS, every(REJECT), probes=nbf_future
    ),
    Attack(
        "CLAIM-IAT-FUTURE",
        "Token issued in the future (clock attack, pre-minted tokens)",
        Section.CLAIMS,
        every(REJECT),
        probes=iat_future,
        library_note="pyseto checks no iat.",
    ),
    Attack(
        "CLAIM-LEEWAY-ABUSE",
        "Clock-skew leeway so large that expired tokens pass",
        Section.CLAIMS,
        every(STARTUP),
        startup=leeway_abuse,
    ),
    Attack(
        "CLAIM-EXP-TYPE",
        "exp of the wrong type or spelling (numeric strings, huge numbers; non-RFC 3339 dates)",
        Section.CLAIMS,
        every(REJECT),
        probes=exp_type,
        library_note="pyjwt coerces exp with int(); pyseto parses any ISO 8601.",
    ),
    Attack(
        "CLAIM-AUD-MISMATCH",
        "Token minted for another audience accepted",
        Section.CLAIMS,
        every(REJECT),
        probes=aud_mismatch,
        library_note="pyjwt fails closed on a present aud; pyseto checks aud only when aud= is passed.",
    ),
    Attack(
        "CLAIM-ISS-MISMATCH",
        "Token from another issuer accepted; partial issuer match",
        Section.CLAIMS,
        every(REJECT),
        probes=iss_mismatch,
        library_note="pyjwt checks iss only when issuer= is passed; pyseto has no issuer option.",
    ),
    Attack(
        "CLAIM-TYPE-CONFUSION",
        "Claims of the wrong JSON type reaching authorization code",
        Section.CLAIMS,
        every(REJECT),
        probes=claim_types,
        library_note=(
            "pyjwt type-checks sub and jti only; pyseto checks no types; neither checks private claims."
        ),
    ),
    Attack(
        "TOKEN-TYPE-CONFUSION",
        "Access token used as refresh token and vice versa",
        Section.CLAIMS,
        every(REJECT),
        probes=type_confusion,
        library_note="Neither library has a notion of token kind.",
    ),
    Attack(
        "REFRESH-REPLAY-AFTER-ROTATION",
        "Old refresh token reused after rotation",
        Section.CLAIMS,
        every(REJECT),
        scenario=replay_after_rotation,
        library_check=rotated_token_still_verifies,
        library_decides=False,
    ),
    Attack(
        "REFRESH-CONCURRENT-RACE",
        "Two concurrent refreshes with the same refresh token both start a lineage",
        Section.CLAIMS,
        every(
            Applicability(
                Expect.HOLD,
                "one lineage: the refresh grace window (docs/design.md) gives a concurrent retry the same "
                "successor (with TOKENBENCH_REFRESH_GRACE=0 the second request is a 401)",
            )
        ),
        scenario=concurrent_refresh,
        library_note="Not a library matter: the session store decides (one compare-and-set).",
        library_decides=False,
    ),
    Attack(
        "LIFECYCLE-REVOKED-ACCESS",
        "Access token still used after logout / revocation",
        Section.CLAIMS,
        dict.fromkeys(ALL_FORMATS, STATELESS),
        scenario=revoked_access,
        library_check=revoked_access_library,
        library_decides=False,
    ),
)
