"""The migration window's own rules: one format per token, by the token's label, never a second try.

:mod:`tests.formats.test_migration_contract` shows every format keeps its contract inside a window; this
file shows what the window adds: labels, dispatch, refusals of tokens outside the window, relabelled
tokens, verify-only rings of the accepted formats, the published keys and the counters.
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Callable, Mapping
from datetime import timedelta
from itertools import permutations
from pathlib import Path
from typing import Any

import pytest

from formats import (
    FORMATS,
    ClaimPolicy,
    Claims,
    FormatName,
    KeyConfigError,
    Kind,
    TokenError,
    TokenFormat,
    ephemeral,
    load,
)
from formats.keys import generate_key_file
from formats.migration import MAX_ISSUED_HEADERS, MAX_LEARNED_HEADERS, Migration, token_label
from tests.conftest import FixedClock

MakeClaims = Callable[..., Claims]
PAIRS = list(permutations(FormatName, 2))
PAIR_IDS = [f"{old.value}->{new.value}" for old, new in PAIRS]


class Spy:
    """A format that records every token it is asked to verify (and otherwise is the format)."""

    def __init__(self, fmt: TokenFormat) -> None:
        self.fmt = fmt
        self.name = fmt.name
        self.token_label = fmt.token_label
        self.calls: list[str] = []

    def issue(self, claims: Claims, *, kind: Kind) -> str:
        return self.fmt.issue(claims, kind=kind)

    def verify(self, token: str, *, kind: Kind) -> Claims:
        self.calls.append(token)
        return self.fmt.verify(token, kind=kind)

    def well_known(self) -> Mapping[str, Any]:
        return self.fmt.well_known()


def refusal(window: Migration, token: str, *, kind: Kind = Kind.ACCESS) -> str:
    with pytest.raises(TokenError) as caught:
        window.verify(token, kind=kind)
    return caught.value.code


def relabel(token: str, source: TokenFormat, target: TokenFormat) -> str:
    """``token`` (of ``source``) wearing ``target``'s label; everything after the label is kept."""
    header: dict[str, Any] = {"kid": "k", "typ": "at+jwt"}
    if source.token_label.startswith("v"):  # PASETO: the label is the header
        body = token.removeprefix(source.token_label)
    else:  # JWS: the label is inside the protected header
        segment, body = token.split(".", 1)
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    if target.token_label.startswith("v"):
        return target.token_label + body
    header["alg"] = target.token_label.removeprefix("alg:")
    spelled = base64.urlsafe_b64encode(json.dumps(header, separators=(",", ":")).encode()).rstrip(b"=")
    return f"{spelled.decode()}.{body}"


@pytest.fixture(params=PAIRS, ids=PAIR_IDS)
def pair(request: pytest.FixtureRequest) -> tuple[FormatName, FormatName]:
    old, new = request.param
    return FormatName(old), FormatName(new)


@pytest.fixture
def old(pair: tuple[FormatName, FormatName], policy: ClaimPolicy, clock: FixedClock) -> TokenFormat:
    return ephemeral(pair[0], policy=policy, clock=clock)


@pytest.fixture
def new(pair: tuple[FormatName, FormatName], policy: ClaimPolicy, clock: FixedClock) -> TokenFormat:
    return ephemeral(pair[1], policy=policy, clock=clock)


def refresh_claims(make_claims: MakeClaims) -> Claims:
    return make_claims(jti="jti-refresh-1", fam="fam-1", ver=0)


# --- labels ----------------------------------------------------------------------------------------------


def test_every_token_carries_its_format_label(fmt: TokenFormat, make_claims: MakeClaims) -> None:
    for kind, claims in ((Kind.ACCESS, make_claims()), (Kind.REFRESH, refresh_claims(make_claims))):
        assert token_label(fmt.issue(claims, kind=kind)) == fmt.token_label


def test_no_two_registered_formats_share_a_label() -> None:
    labels = [cls.token_label for cls in FORMATS.values()]
    assert len(set(labels)) == len(labels)


@pytest.mark.parametrize(
    "token",
    ["", ".", "v4", "v4.", "v4..x", ".v4.public.x", "eyJhbGciOiJIUzI1NiJ9", "x.y.z", "é.x.y", "A" * 9000],
)
def test_a_token_without_a_readable_label_has_none(token: str) -> None:
    assert token_label(token) is None


def test_a_jws_label_is_its_alg_whatever_else_its_header_says() -> None:
    header = base64.urlsafe_b64encode(b'{"typ":"x","alg":"ES256","kid":1}').rstrip(b"=").decode()
    assert token_label(f"{header}.e30.") == "alg:ES256"


# --- dispatch --------------------------------------------------------------------------------------------


def test_the_window_issues_the_new_format_and_verifies_both(
    old: TokenFormat, new: TokenFormat, make_claims: MakeClaims
) -> None:
    window = Migration(new, [old])
    access, refresh = make_claims(), refresh_claims(make_claims)
    issued = window.issue(access, kind=Kind.ACCESS)
    assert token_label(issued) == new.token_label
    assert window.verify(issued, kind=Kind.ACCESS) == access
    assert window.verify(old.issue(access, kind=Kind.ACCESS), kind=Kind.ACCESS) == access
    assert window.verify(old.issue(refresh, kind=Kind.REFRESH), kind=Kind.REFRESH) == refresh


def test_kind_binding_holds_across_the_window(
    old: TokenFormat, new: TokenFormat, make_claims: MakeClaims
) -> None:
    window = Migration(new, [old])
    refresh = refresh_claims(make_claims)
    for fmt in (old, new):
        assert refusal(window, fmt.issue(refresh, kind=Kind.REFRESH), kind=Kind.ACCESS) == "token_wrong_kind"
        assert refusal(window, fmt.issue(make_claims(), kind=Kind.ACCESS), kind=Kind.REFRESH) == (
            "token_wrong_kind"
        )


def test_each_token_is_tried_against_exactly_the_format_it_names(
    old: TokenFormat, new: TokenFormat, make_claims: MakeClaims, clock: FixedClock
) -> None:
    spies = {fmt.name: Spy(fmt) for fmt in (old, new)}
    window = Migration(spies[new.name], [spies[old.name]])  # type: ignore[arg-type]
    stranger_old, stranger_new = ephemeral(old.name), ephemeral(new.name)
    tokens = [
        fmt.issue(claims, kind=kind)
        for fmt in (old, new, stranger_old, stranger_new)
        for kind, claims in ((Kind.ACCESS, make_claims()), (Kind.REFRESH, refresh_claims(make_claims)))
    ]
    tokens += [relabel(t, old, new) for t in tokens[:2]] + [relabel(t, new, old) for t in tokens[2:4]]
    for token in tokens:
        expected = window.format_of(token)
        before = {name: len(spy.calls) for name, spy in spies.items()}
        for kind in Kind:
            with contextlib.suppress(TokenError):
                window.verify(token, kind=kind)
        tried = {name: len(spy.calls) - before[name] for name, spy in spies.items()}
        assert tried == {name: 2 if spies[name] is expected else 0 for name in spies}
        assert expected.token_label == token_label(token)
    clock.advance(3600)  # every token expired: still tried by its own format only
    for token in tokens[:4]:
        window.format_of(token)


def test_a_token_of_a_format_outside_the_window_is_malformed(
    old: TokenFormat, new: TokenFormat, make_claims: MakeClaims
) -> None:
    window = Migration(new, [old])
    for other in FormatName:
        if other not in (old.name, new.name):
            token = ephemeral(other).issue(make_claims(), kind=Kind.ACCESS)
            assert refusal(window, token) == "token_malformed"


def test_after_the_window_the_old_format_is_malformed(
    old: TokenFormat, new: TokenFormat, make_claims: MakeClaims
) -> None:
    token = old.issue(make_claims(), kind=Kind.ACCESS)
    assert Migration(new, [old]).verify(token, kind=Kind.ACCESS) == make_claims()
    assert refusal(Migration(new), token) == "token_malformed"


def test_an_old_token_relabelled_as_the_new_format_never_verifies(
    old: TokenFormat, new: TokenFormat, make_claims: MakeClaims
) -> None:
    window = Migration(new, [old])
    for kind, claims in ((Kind.ACCESS, make_claims()), (Kind.REFRESH, refresh_claims(make_claims))):
        for token, source, target in (
            (old.issue(claims, kind=kind), old, new),
            (new.issue(claims, kind=kind), new, old),
        ):
            relabelled = relabel(token, source, target)
            assert token_label(relabelled) == target.token_label
            assert window.format_of(relabelled) is target
            for as_kind in Kind:
                assert refusal(window, relabelled, kind=as_kind) in {
                    "token_malformed",
                    "token_bad_signature",
                    "token_unknown_key",
                }


def test_the_issued_format_cannot_also_be_accepted(policy: ClaimPolicy) -> None:
    for name in FormatName:
        with pytest.raises(KeyConfigError, match="label their tokens"):
            Migration(ephemeral(name), [ephemeral(name, policy=policy)])


@pytest.mark.parametrize("side", ["issued", "accepted"])
def test_forged_headers_are_never_remembered(make_claims: MakeClaims, clock: FixedClock, side: str) -> None:
    hs = ephemeral(FormatName.JWT_HS256, clock=clock)
    other = ephemeral(FormatName.PASETO_V4_PUBLIC, clock=clock)
    window = Migration(hs, [other]) if side == "issued" else Migration(other, [hs])
    token = hs.issue(make_claims(), kind=Kind.ACCESS)
    _, payload, signature = token.split(".")
    for i in range(MAX_LEARNED_HEADERS * 2):
        header = {"alg": "HS256", "kid": f"k-{i}", "typ": "at+jwt"}
        segment = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
        assert refusal(window, f"{segment}.{payload}.{signature}") == "token_unknown_key"
    # the tables a verified header enters, and their bounds, are the point of the test
    assert (window._learned, window._issued_prefixes) == ({}, () if side == "issued" else ("v4.public.",))
    for _ in range(2):
        assert window.verify(token, kind=Kind.ACCESS) == make_claims()
    head = token.split(".")[0] + "."
    if side == "issued":
        assert window._issued_prefixes == (head,)
    else:
        assert window._learned == {head: hs}


def test_the_issued_header_table_is_bounded(
    make_claims: MakeClaims, clock: FixedClock, tmp_path: Path
) -> None:
    for _ in range(MAX_ISSUED_HEADERS + 2):
        generate_key_file(tmp_path, FormatName.JWT_HS256)
    texts = [(str(p), p.read_text()) for p in sorted((tmp_path / "jwt-hs256").iterdir())]
    rings = [
        FORMATS[FormatName.JWT_HS256].from_key_texts(texts[: i + 1], clock=clock) for i in range(len(texts))
    ]
    window = Migration(rings[-1], [ephemeral(FormatName.PASETO_V4_LOCAL)])
    for ring in rings:  # tokens of every key of the ring, the newest last
        assert window.verify(ring.issue(make_claims(), kind=Kind.ACCESS), kind=Kind.ACCESS) == make_claims()
    assert 1 <= len(window._issued_prefixes) <= MAX_ISSUED_HEADERS


# --- accepted rings: verify-only, from the key directory ---------------------------------------------------


def public_key_texts(fmt: TokenFormat) -> list[str]:
    """The public key texts of an asymmetric ring, as its well-known document lists them."""
    (document,) = fmt.well_known().values()
    return [entry["paserk"] if "paserk" in entry else json.dumps(entry) for entry in document["keys"]]


@pytest.mark.parametrize("name", [FormatName.JWT_ES256, FormatName.PASETO_V4_PUBLIC], ids=str)
def test_an_accepted_ring_of_public_keys_verifies_and_never_issues(
    name: FormatName, tmp_path: Path, policy: ClaimPolicy, clock: FixedClock, make_claims: MakeClaims
) -> None:
    generate_key_file(tmp_path, name)
    before = load(name, tmp_path, policy=policy, clock=clock)
    token = before.issue(make_claims(), kind=Kind.ACCESS)
    (private,) = (tmp_path / name.value).iterdir()
    private.write_text(public_key_texts(before)[0], encoding="utf-8")
    with pytest.raises(KeyConfigError, match="cannot sign"):
        load(name, tmp_path, policy=policy, clock=clock)
    accepted = FORMATS[name].load_verify_only(tmp_path, policy=policy, clock=clock)
    assert not accepted.can_issue
    assert accepted.kids == before.kids
    assert Migration(ephemeral(FormatName.JWT_HS256), [accepted]).verify(token, kind=Kind.ACCESS) == (
        make_claims()
    )
    with pytest.raises(KeyConfigError, match="verifies, never issues"):
        accepted.issue(make_claims(), kind=Kind.ACCESS)


def test_a_verify_only_ring_keeps_every_key_of_the_directory(
    format_name: FormatName, tmp_path: Path, policy: ClaimPolicy, clock: FixedClock, make_claims: MakeClaims
) -> None:
    tokens = []
    for _ in range(2):
        generate_key_file(tmp_path, format_name)
        tokens.append(
            load(format_name, tmp_path, policy=policy, clock=clock).issue(make_claims(), kind=Kind.ACCESS)
        )
    accepted = FORMATS[format_name].load_verify_only(tmp_path, policy=policy, clock=clock)
    assert [accepted.verify(t, kind=Kind.ACCESS) for t in tokens] == [make_claims()] * 2
    assert (accepted.can_issue, len(accepted.kids)) == (False, 2)


def test_a_verify_only_ring_needs_a_key(format_name: FormatName, tmp_path: Path) -> None:
    with pytest.raises(KeyConfigError, match=r"no \.\w+ key files"):
        FORMATS[format_name].load_verify_only(tmp_path)


# --- what the window publishes and counts ------------------------------------------------------------------


def test_the_window_publishes_the_public_keys_of_every_format(old: TokenFormat, new: TokenFormat) -> None:
    published = Migration(new, [old]).well_known()
    for fmt in (new, old):
        for name, document in fmt.well_known().items():
            assert all(entry in published[name]["keys"] for entry in document["keys"])
    assert set(published) == set(new.well_known()) | set(old.well_known())


def test_a_verifier_takes_its_own_keys_from_a_document_the_window_shares(
    old: TokenFormat, new: TokenFormat, make_claims: MakeClaims, policy: ClaimPolicy, clock: FixedClock
) -> None:
    """jwt-es256 and jwt-eddsa share ``jwks.json`` during a switch; each format's verifier ring reads it."""
    published = Migration(new, [old]).well_known()
    for fmt in (old, new):
        if fmt.public_document is None:
            continue
        document = published[fmt.public_document]
        ring = FORMATS[fmt.name].from_public_document(document, source="window", policy=policy, clock=clock)
        assert set(ring.kids) == set(fmt.kids)
        token = fmt.issue(make_claims(), kind=Kind.ACCESS)
        assert ring.verify(token, kind=Kind.ACCESS) == make_claims()


def test_the_window_counts_verified_tokens_of_each_accepted_format(
    old: TokenFormat, new: TokenFormat, make_claims: MakeClaims, clock: FixedClock
) -> None:
    window = Migration(new, [old], clock=clock)
    assert window.seen()[old.name].last is None
    expiring = old.issue(make_claims(), kind=Kind.ACCESS)
    window.verify(old.issue(make_claims(), kind=Kind.ACCESS), kind=Kind.ACCESS)
    clock.advance(5)
    window.verify(old.issue(refresh_claims(make_claims), kind=Kind.REFRESH), kind=Kind.REFRESH)
    window.verify(new.issue(make_claims(), kind=Kind.ACCESS), kind=Kind.ACCESS)
    refusal(window, ephemeral(old.name).issue(make_claims(), kind=Kind.ACCESS))
    clock.advance(3600)
    assert refusal(window, expiring) == "token_expired"
    seen = window.seen()
    assert set(seen) == {old.name}
    assert (seen[old.name].access, seen[old.name].refresh) == (1, 1)  # verified ones only
    assert seen[old.name].last == clock.now - timedelta(seconds=3600)
