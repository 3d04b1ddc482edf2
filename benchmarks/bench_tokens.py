"""Token level: issue and verify per format and kind, rejections, and each format's floor and peers.

Groups (one table per group in the report): ``verify-access:<format>`` holds the floor, tokenbench and
every peer verifying the same access token, side by side in one run; ``tokenbench:<format>`` holds issue
(access, refresh), verify of a refresh token and the two rejections (a bad signature, and garbage).

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
from formats import Claims, FormatName, Kind, TokenError

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


@pytest.mark.parametrize("name", list(FormatName), ids=FORMAT_IDS)
def test_floor_verifies_access_token(benchmark: Any, name: FormatName) -> None:
    subject = subject_of(name)
    _label(benchmark, "verify-access", name, "verify", "floor")
    claims = benchmark(floor_for(subject), subject.access)
    assert claims["sub"] == subject.claims.sub


@pytest.mark.parametrize("name", list(FormatName), ids=FORMAT_IDS)
def test_tokenbench_verifies_access_token(benchmark: Any, name: FormatName) -> None:
    subject = subject_of(name)
    _label(benchmark, "verify-access", name, "verify", "tokenbench")
    claims = benchmark(subject.fmt.verify, subject.access, kind=Kind.ACCESS)
    assert claims == subject.claims


@pytest.mark.parametrize(
    ("name", "peer"),
    [(f, p) for f in FormatName for p in PEER_NAMES[f]],
    ids=[f"{f.value}-{p}" for f in FormatName for p in PEER_NAMES[f]],
)
def test_peer_verifies_access_token(benchmark: Any, name: FormatName, peer: str) -> None:
    subject = subject_of(name)
    (chosen,) = (p for p in peers_for(subject) if p.name == peer)
    _label(benchmark, "verify-access", name, "verify", peer)
    result = benchmark(chosen.verify, chosen.token)
    assert chosen.subject_of(result) == subject.claims.sub


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
