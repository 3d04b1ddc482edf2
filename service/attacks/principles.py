"""Rows for design principles (docs/design.md) the catalog does not spell out.

* one spelling per token, and a payload that is a UTF-8 JSON object whose claims have the right types;
* refresh-token replay recognised by the token's identity (``jti``), never by its string;
* the two kinds never interchangeable, and each credential accepted only where it belongs;
* a token signed by anyone but the service is refused, whatever key id it names;
* logout ends the refresh family at once, and a planted second refresh cookie neither blocks it nor
  survives it (cookie tossing).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Final

from cryptography.hazmat.primitives.asymmetric import ec

from formats import FormatName, Kind, forge
from service.attacks import attacker
from service.attacks.claim_lifecycle import rotated_token_still_verifies
from service.attacks.context import Context, read_claims
from service.attacks.model import (
    BAD_SIGNATURE,
    CLAIMS_INVALID,
    EDDSA,
    ES256,
    HS256,
    JWT_FORMATS,
    LOCAL,
    MALFORMED,
    REJECT,
    REVOKED,
    UNKNOWN_KEY,
    WRONG_KIND,
    Attack,
    NeedsKeyError,
    Observation,
    Outcome,
    Probe,
    Reply,
    Section,
    Verdict,
    Via,
    every,
)

__all__ = ["ATTACKS"]

ACCEPTS: Final = Verdict.ACCEPTS
REJECTS: Final = Verdict.REJECTS
MISSING: Final = "missing_credentials"


# --- PAYLOAD-NOT-JSON-OBJECT -------------------------------------------------------------------------


def payload_shape(ctx: Context) -> Iterator[Probe]:
    """Validly signed payloads that are not one UTF-8 JSON object."""
    claims = forge.json_bytes(ctx.claims())
    is_jwt = ctx.format in JWT_FORMATS
    for label, payload, jwt_verdict, paseto_verdict in (
        ("a JSON array of the claims", b"[" + claims + b"]", REJECTS, ACCEPTS),
        ('a JSON string "admin"', b'"admin"', REJECTS, ACCEPTS),
        ("a JSON number", b"42", REJECTS, REJECTS),
        ("JSON null", b"null", REJECTS, REJECTS),
        ("the claims with trailing garbage", claims + b" x", REJECTS, REJECTS),
        ("the claims behind a UTF-8 byte order mark", b"\xef\xbb\xbf" + claims, ACCEPTS, ACCEPTS),
        ("the claims in UTF-16", claims.decode().encode("utf-16-le"), ACCEPTS, ACCEPTS),
        ("invalid UTF-8 inside a string", claims.replace(b'"admin"', b'"adm\xffin"'), REJECTS, REJECTS),
        ("100000 nested arrays", b"[" * 100_000 + b"]" * 100_000, REJECTS, REJECTS),
    ):
        verdict = jwt_verdict if is_jwt else paseto_verdict
        yield Probe(label, ctx.mint(payload), MALFORMED, library=verdict)


# --- CLAIM-KIND-MARKERS ------------------------------------------------------------------------------


def kind_markers(ctx: Context) -> Iterator[Probe]:
    """fam/ver belong to refresh tokens only, and together; a refresh binding without them is not one."""
    access = ctx.claims(Kind.ACCESS)
    refresh = ctx.claims(Kind.REFRESH)
    # Claims of one kind bound to the other: paseto-v4-public checks its one signature under the kind the
    # payload claims, so it refuses these as a bad signature (docs/decisions.md); the others say wrong kind.
    mismatch = BAD_SIGNATURE if ctx.format is FormatName.PASETO_V4_PUBLIC else WRONG_KIND
    yield Probe(
        "access token carrying fam and ver",
        ctx.mint({**access, "fam": "f", "ver": 0}),
        mismatch,
        library=ACCEPTS,
    )
    no_markers = {k: v for k, v in refresh.items() if k not in ("fam", "ver")}
    yield Probe(
        "refresh token without fam and ver",
        ctx.mint(no_markers, kind=Kind.REFRESH),
        mismatch,
        via=Via.COOKIE,
        library=ACCEPTS,
    )
    yield Probe(
        "refresh token with fam only",
        ctx.mint({**no_markers, "fam": refresh["fam"]}, kind=Kind.REFRESH),
        CLAIMS_INVALID,
        via=Via.COOKIE,
        library=ACCEPTS,
    )
    yield Probe(
        "refresh token with ver = -1",
        ctx.mint({**refresh, "ver": -1}, kind=Kind.REFRESH),
        CLAIMS_INVALID,
        via=Via.COOKIE,
        library=ACCEPTS,
    )
    yield Probe(
        'refresh token with ver = "1"',
        ctx.mint({**refresh, "ver": "1"}, kind=Kind.REFRESH),
        CLAIMS_INVALID,
        via=Via.COOKIE,
        library=ACCEPTS,
    )


# --- TOKEN-WRONG-PLACE -------------------------------------------------------------------------------


def wrong_place(ctx: Context) -> Iterator[Probe]:
    """Genuine credentials where they do not belong: each counts only in its one place."""
    access, refresh = ctx.sample(Kind.ACCESS), ctx.sample(Kind.REFRESH)
    yield Probe(
        "refresh token as bearer on /auth/refresh (no cookie)",
        refresh,
        MISSING,
        via=Via.REFRESH_BEARER,
        library=None,
    )
    yield Probe(
        "access token as refresh_token cookie on /admin/users",
        access,
        MISSING,
        via=Via.ACCESS_COOKIE,
        library=None,
    )
    yield Probe(
        "access token in the query string (?access_token=)", access, MISSING, via=Via.QUERY, library=None
    )
    yield Probe(
        "access token under the Basic scheme", f"Basic {access}", MISSING, via=Via.AUTHORIZATION, library=None
    )


# --- CREDENTIAL-AMBIGUITY ---------------------------------------------------------------------------


def ambiguous_credentials(ctx: Context) -> Iterator[Probe]:
    """Two credentials in one request: which one counts is a parser's choice, so neither should.

    Two refresh cookies is what cookie tossing produces: a sibling subdomain plants its own
    ``refresh_token`` (Domain=parent), the browser sends both, and a service that picks one may rotate
    the attacker's session for the victim (session fixation).
    """
    if ctx.http is None:
        return
    victim, attacker_session = ctx.http.login(), ctx.http.login()
    yield Probe(
        "two bearer headers (the user's, then another session's)",
        victim.access,
        MALFORMED,
        via=Via.TWO_BEARERS,
        second=attacker_session.access,
        library=None,
    )
    yield Probe(
        "two refresh_token cookies (the victim's, then one planted by an attacker)",
        victim.refresh,
        MALFORMED,
        via=Via.TWO_COOKIES,
        second=attacker_session.refresh,
        library=None,
    )


# --- KEY-FOREIGN-SIGNER ------------------------------------------------------------------------------


def foreign_signer(ctx: Context) -> Iterator[Probe]:
    """Well-formed tokens made with the attacker's own key: naming the service's key id, or the attacker's."""
    payload = ctx.claims()
    implicit = ctx.implicit(Kind.ACCESS)
    if ctx.format is HS256:
        sign = forge.hmac_signer(attacker.local_key()[0])
        own = forge.jws(ctx.header(kid="attacker"), payload, sign=sign)
        named = forge.jws(ctx.header(), payload, sign=sign)
    elif ctx.format in (ES256, EDDSA):
        if ctx.format is EDDSA:
            sign = forge.ed25519_signer(attacker.ed25519_keypair()[0])
        else:
            sign = forge.ecdsa_signer(ec.generate_private_key(ec.SECP256R1()))
        own = forge.jws(ctx.header(kid="attacker"), payload, sign=sign)
        named = forge.jws(ctx.header(), payload, sign=sign)
    elif ctx.format is LOCAL:
        key, _, lid = attacker.local_key()
        own = forge.v4_local(key, payload, footer={"kid": lid}, implicit=implicit)
        named = forge.v4_local(key, payload, footer=ctx.footer(), implicit=implicit)
    else:
        secret, _, pid = attacker.ed25519_keypair()
        own = forge.v4_public(secret, payload, footer={"kid": pid}, implicit=implicit)
        named = forge.v4_public(secret, payload, footer=ctx.footer(), implicit=implicit)
    yield Probe("attacker key, the service's key id", named, BAD_SIGNATURE)
    yield Probe("attacker key, the attacker's key id", own, UNKNOWN_KEY)


# --- REPLAY-RESPELLED-REFRESH ------------------------------------------------------------------------


def _respelled(ctx: Context, token: str) -> str:
    """The same refresh token (same claims, same jti), spelled differently: re-signed or re-encrypted."""
    claims = read_claims(ctx.format, token, ctx.key)
    if claims is None:
        raise NeedsKeyError("needs the service's key files to read the refresh token")
    reordered = dict(reversed(claims.items()))
    return ctx.mint(json.dumps(reordered, separators=(", ", ": ")).encode(), kind=Kind.REFRESH)


def respelled_replay(ctx: Context) -> Iterator[Observation]:
    """R1 -> R2; R1 re-spelled (same jti, other bytes) after the grace window must count as R1's reuse."""
    api = ctx.require_http()
    ctx.require_key()
    session = api.login()
    rotated = api.refresh(session.refresh)
    if rotated.status != 200 or rotated.refresh_token is None:
        yield api.judge("first rotation R1 -> R2 (setup)", rotated, "200")
        return
    respelled = _respelled(ctx, session.refresh)
    api.advance(api.refresh_grace + 1)
    yield api.judge("R1 re-spelled (same jti) after the grace window", api.refresh(respelled), REVOKED)
    yield api.judge(
        "R2 after the re-spelled reuse (family revoked)", api.refresh(rotated.refresh_token), REVOKED
    )


# --- LIFECYCLE-LOGOUT-REFRESH ------------------------------------------------------------------------


def logout_refresh(ctx: Context) -> Iterator[Observation]:
    """After logout the refresh token is dead; after logout-all every session of the user is."""
    api = ctx.require_http()
    session = api.login()
    logout = api.logout(session.refresh)
    if logout.status != 204:
        yield api.judge("logout (setup)", logout, "204")
        return
    yield api.judge("refresh token of a logged-out session", api.refresh(session.refresh), REVOKED)
    yield api.judge("logout again with the same token", api.logout(session.refresh), REVOKED)
    first, second = api.login(), api.login()
    done = api.logout_all(first.access)
    if done.status != 204:
        yield api.judge("logout-all (setup)", done, "204")
        return
    yield api.judge("refresh token of another session after logout-all", api.refresh(second.refresh), REVOKED)


# --- COOKIE-TOSSING-LOGOUT --------------------------------------------------------------------------


def cookie_tossing_logout(ctx: Context) -> Iterator[Observation]:
    """Logout with the victim's refresh cookie and a planted one (junk, or the attacker's own session).

    Cookie tossing plants a second refresh cookie the browser sends with the victim's. If logout refused
    the pair, the victim could not end the session (on a shared machine, say) and the planted cookie
    would stay; logout must end whichever verifies and expire the cookie.
    """
    api = ctx.require_http()
    for label in ("junk", "the attacker's own session"):
        for victim_first in (True, False):
            planted = "planted-junk" if label == "junk" else api.login().refresh
            victim = api.login()
            tokens = (victim.refresh, planted) if victim_first else (planted, victim.refresh)
            where = "after" if victim_first else "before"
            variant = f"logout with a planted cookie ({label}, {where} the victim's)"
            reply, expired = api.logout_with(*tokens)
            if reply.status != 204:
                yield Observation(variant, Outcome.ACCEPTED, _shown(reply), "204, the session ended")
                continue
            after = api.refresh(victim.refresh)
            yield api.judge(f"{variant}: the victim's refresh token after it", after, REVOKED)
            yield Observation(
                f"{variant}: the reply expires the refresh cookie",
                Outcome.HELD if expired else Outcome.ACCEPTED,
                "Max-Age=0" if expired else "the cookie is left in place",
                "Max-Age=0",
            )


# --- LIFECYCLE-SESSION-MAX-AGE ---------------------------------------------------------------------


def session_max_age(ctx: Context) -> Iterator[Observation]:
    """A refresh chain kept alive, each token refreshed before it expires, past the session's maximum age.

    Sliding refresh alone lets a stolen refresh token live forever as long as it is used in time; the
    family must end ``TOKENBENCH_SESSION_MAX_AGE`` after its login however it was refreshed.
    """
    api = ctx.require_http()
    if api.lifetimes is None:
        raise NeedsKeyError("needs the service's refresh lifetimes and its clock (run in-process)")
    refresh_ttl, max_age = api.lifetimes
    step = max(1, refresh_ttl - 60)  # every refresh a minute before the token would expire
    token, elapsed = api.login().refresh, 0
    while elapsed + step < max_age:
        api.advance(step)
        elapsed += step
        reply = api.refresh(token)
        if reply.status != 200 or reply.refresh_token is None:
            yield api.judge(f"refresh after {elapsed} s, within the maximum age (setup)", reply, "200")
            return
        token = reply.refresh_token
    api.advance(max_age - elapsed + 1)  # the token itself is still valid: only the family's age is over
    yield api.judge(
        f"refresh of a chain kept alive for {max_age + 1} s (the maximum age + 1)",
        api.refresh(token),
        REVOKED,
    )
    yield api.judge("the same token again (the family is revoked)", api.refresh(token), REVOKED)


def _shown(reply: Reply) -> str:
    return f"{reply.status} {reply.code}" if reply.code else str(reply.status)


ATTACKS: Final = (
    Attack(
        "PAYLOAD-NOT-JSON-OBJECT",
        "Validly signed payload that is not one UTF-8 JSON object (array, string, BOM, UTF-16, garbage)",
        Section.PRINCIPLES,
        every(REJECT),
        probes=payload_shape,
        library_note="Both libraries use json.loads: a BOM and UTF-16 pass; pyseto also takes arrays.",
        extra=True,
    ),
    Attack(
        "CLAIM-KIND-MARKERS",
        "Kind markers out of place: fam/ver on an access token, missing or mistyped on a refresh token",
        Section.PRINCIPLES,
        every(REJECT),
        probes=kind_markers,
        extra=True,
    ),
    Attack(
        "TOKEN-WRONG-PLACE",
        "Genuine credentials in the wrong place: bearer on refresh, cookie on API, query string, Basic",
        Section.PRINCIPLES,
        every(REJECT),
        probes=wrong_place,
        library_note="Transport, not token: no library call is involved.",
        extra=True,
        library_decides=False,
    ),
    Attack(
        "CREDENTIAL-AMBIGUITY",
        "Two credentials in one request (two bearer headers; two refresh cookies, as cookie tossing plants)",
        Section.PRINCIPLES,
        every(REJECT),
        probes=ambiguous_credentials,
        library_note="Transport, not token: no library call is involved.",
        extra=True,
        library_decides=False,
    ),
    Attack(
        "COOKIE-TOSSING-LOGOUT",
        "Logout sent with the victim's refresh cookie and a planted one (junk, or the attacker's session)",
        Section.PRINCIPLES,
        every(REJECT),
        scenario=cookie_tossing_logout,
        library_note="Transport, not token: no library call is involved.",
        extra=True,
        library_decides=False,
    ),
    Attack(
        "LIFECYCLE-SESSION-MAX-AGE",
        "Refresh chain kept alive past TOKENBENCH_SESSION_MAX_AGE (sliding refresh forever)",
        Section.PRINCIPLES,
        every(REJECT),
        scenario=session_max_age,
        library_check=rotated_token_still_verifies,
        extra=True,
        library_decides=False,
    ),
    Attack(
        "KEY-FOREIGN-SIGNER",
        "Well-formed token signed by the attacker's own key, naming the service's key id or its own",
        Section.PRINCIPLES,
        every(REJECT),
        probes=foreign_signer,
        extra=True,
    ),
    Attack(
        "REPLAY-RESPELLED-REFRESH",
        "Rotated refresh token replayed in another spelling (same jti, other bytes)",
        Section.PRINCIPLES,
        every(REJECT),
        scenario=respelled_replay,
        library_check=rotated_token_still_verifies,
        extra=True,
        library_decides=False,
    ),
    Attack(
        "LIFECYCLE-LOGOUT-REFRESH",
        "Refresh token used after logout, or after logout-all from another session",
        Section.PRINCIPLES,
        every(REJECT),
        scenario=logout_refresh,
        library_check=rotated_token_still_verifies,
        extra=True,
        library_decides=False,
    ),
)
