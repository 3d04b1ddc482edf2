"""Token level: issue and verify per format and kind, rejections, and each format's floor and peers.

Groups (one table per group in the report): ``verify-access:<format>`` holds the floor, tokenbench and
every peer verifying the same access token, side by side in one run; ``tokenbench:<format>`` holds issue
(access, refresh), verify of a refresh token and the two rejections (a bad signature, and garbage);
``window:<format>`` holds the verify of an issued-format access token with no accepted format and with
every other format accepted (``TOKENBENCH_ACCEPT_FORMATS``, :class:`formats.migration.Migration`), back
to back.

Every body asserts what it got, so ``pytest --benchmark-disable`` (the normal suite) runs each one once
and a broken peer or a floor that stopped verifying fails the suite instead of being timed.
`extra_info` carries ``format``, ``op``, ``impl``, ``kind`` and ``case``: the report reads those, never
the test names.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

from benchmarks.floor import floor_for
from benchmarks.peers import PEER_NAMES, peers_for
from benchmarks.subjects import Subject, access_claims, build_subject, refresh_claims
from formats import Claims, FormatName, Kind, TokenError, ephemeral
from formats.migration import Migration, Verifier

FORMAT_IDS = [f.value for f in FormatName]


@functools.cache
def subject_of(name: FormatName) -> Subject:
    return build_subject(name)


def _label(
    benchmark: Any,
    group: str,
    name: FormatName,
    op: str,
    impl: str,
    *,
    kind: str = "access",
    case: str = "ok",
) -> None:
    benchmark.group = f"{group}:{name.value}"
    benchmark.extra_info.update(format=name.value, op=op, impl=impl, kind=kind, case=case)


VERIFIERS = [(f, impl) for f in FormatName for impl in ("floor", "tokenbench", *PEER_NAMES[f])]
"""Format-major, so each format's floor, tokenbench and peers run back to back (their ratios see the same
machine state)."""


@pytest.mark.parametrize(("name", "impl"), VERIFIERS, ids=[f"{f.value}-{i}" for f, i in VERIFIERS])
def test_floor_tokenbench_and_peers_verify_the_same_access_token(
    benchmark: Any, name: FormatName, impl: str
) -> None:
    subject = subject_of(name)
    _label(benchmark, "verify-access", name, "verify", impl)
    if impl == "floor":
        assert benchmark(floor_for(subject), subject.access)["sub"] == subject.claims.sub
    elif impl == "tokenbench":
        assert benchmark(subject.fmt.verify, subject.access, kind=Kind.ACCESS) == subject.claims
    else:
        (peer,) = (p for p in peers_for(subject) if p.name == impl)
        assert peer.subject_of(benchmark(peer.verify, peer.token)) == subject.claims.sub


@pytest.mark.parametrize("name", list(FormatName), ids=FORMAT_IDS)
def test_tokenbench_verifies_refresh_token(benchmark: Any, name: FormatName) -> None:
    subject = subject_of(name)
    _label(benchmark, "tokenbench", name, "verify", "tokenbench", kind="refresh")
    claims = benchmark(subject.fmt.verify, subject.refresh, kind=Kind.REFRESH)
    assert claims.fam is not None


@pytest.mark.parametrize("kind", list(Kind), ids=[k.value for k in Kind])
@pytest.mark.parametrize("name", list(FormatName), ids=FORMAT_IDS)
def test_tokenbench_issues_token(benchmark: Any, name: FormatName, kind: Kind) -> None:
    subject = subject_of(name)
    claims: Claims = access_claims() if kind is Kind.ACCESS else refresh_claims()
    _label(benchmark, "tokenbench", name, "issue", "tokenbench", kind=kind.value)
    token = benchmark(subject.fmt.issue, claims, kind=kind)
    assert subject.fmt.verify(token, kind=kind) == claims


@pytest.mark.parametrize(
    ("case", "code"),
    [("bad-signature", "token_bad_signature"), ("garbage", "token_malformed")],
    ids=["bad-signature", "garbage"],
)
@pytest.mark.parametrize("name", list(FormatName), ids=FORMAT_IDS)
def test_tokenbench_rejects_invalid_token(benchmark: Any, name: FormatName, case: str, code: str) -> None:
    subject = subject_of(name)
    token = subject.bad_signature if case == "bad-signature" else subject.garbage

    def reject() -> str:
        try:
            subject.fmt.verify(token, kind=Kind.ACCESS)
        except TokenError as exc:
            return exc.code
        raise AssertionError("an invalid token verified")

    _label(benchmark, "tokenbench", name, "reject", "tokenbench", case=case)
    assert benchmark(reject) == code


WINDOW_CASES = [(f, case) for f in FormatName for case in ("issued-only", "accepting")]
"""Format-major, so each format's two cases run back to back."""


@functools.cache
def window_of(name: FormatName) -> Migration:
    """The issued format of ``name``'s subject with every other format accepted (the most labels)."""
    subject = subject_of(name)
    window = Migration(subject.fmt, [ephemeral(other) for other in FormatName if other != name])
    window.verify(subject.access, kind=Kind.ACCESS)  # as in a running service: the header is known
    return window


@pytest.mark.parametrize(("name", "case"), WINDOW_CASES, ids=[f"{f.value}-{c}" for f, c in WINDOW_CASES])
def test_issued_format_verify_with_and_without_accepted_formats(
    benchmark: Any, name: FormatName, case: str
) -> None:
    subject = subject_of(name)
    verifier: Verifier = subject.fmt if case == "issued-only" else window_of(name)
    _label(benchmark, "window", name, "window-verify", "tokenbench", case=case)
    assert benchmark(verifier.verify, subject.access, kind=Kind.ACCESS) == subject.claims
