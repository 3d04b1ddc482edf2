"""Token level: issue and verify per format and kind, rejections, and each format's floor and peers.

Groups (one table per group in the report): ``verify-access:<format>`` holds the floor, tokenbench and
every peer verifying the same access token, side by side in one run (and, for the Ed25519 formats, the
floor's steps through cryptography's slower binding, ``floor-cryptography``); ``control:<name>`` holds the
control rows (RS256 with pyjwt, JWE ``dir`` + ``A256GCM`` with joserfc, :mod:`benchmarks.controls`) beside
their floors; ``tokenbench:<format>`` holds issue (access, refresh), verify of a refresh token and the
three rejections (a bad signature, a token of the wrong kind, and garbage);
:func:`window_of` and :func:`rejected_token` serve the interleaved A/B comparisons
(:mod:`benchmarks.interleaved`), which judge the migration window and the rejections.

Every body asserts what it got, so ``pytest --benchmark-disable`` (the normal suite) runs each one once
and a broken peer or a floor that stopped verifying fails the suite instead of being timed.
`extra_info` carries ``format``, ``op``, ``impl``, ``kind`` and ``case``: the report reads those, never
the test names.
"""

from __future__ import annotations

import functools
from typing import Any, Final

import pytest

from benchmarks.controls import CONTROLS, LIBRARY, Control, build_control
from benchmarks.floor import SLOWER_BINDINGS, floor_for, slower_binding_for
from benchmarks.peers import PEER_NAMES, peers_for
from benchmarks.subjects import Subject, access_claims, build_subject, refresh_claims
from formats import Claims, FormatName, Kind, TokenError, ephemeral
from formats.migration import Migration

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


VERIFIERS = [
    (f, impl)
    for f in FormatName
    for impl in (
        "floor",
        "tokenbench",
        *PEER_NAMES[f],
        *([SLOWER_BINDINGS[f]] if f in SLOWER_BINDINGS else []),
    )
]
"""Format-major, so each format's floor, tokenbench and peers run back to back (their ratios see the same
machine state)."""


@pytest.mark.parametrize(("name", "impl"), VERIFIERS, ids=[f"{f.value}-{i}" for f, i in VERIFIERS])
def test_floor_tokenbench_and_peers_verify_the_same_access_token(
    benchmark: Any, name: FormatName, impl: str
) -> None:
    subject = subject_of(name)
    _label(benchmark, "verify-access", name, "verify", impl)
    if impl == "floor":
        assert benchmark(floor_for(subject), subject.access).sub == subject.claims.sub
    elif impl == SLOWER_BINDINGS.get(name):
        assert benchmark(slower_binding_for(subject), subject.access).sub == subject.claims.sub
    elif impl == "tokenbench":
        assert benchmark(subject.fmt.verify, subject.access, kind=Kind.ACCESS) == subject.claims
    else:
        (peer,) = (p for p in peers_for(subject) if p.name == impl)
        assert peer.subject_of(benchmark(peer.verify, peer.token)) == subject.claims.sub


CONTROL_CASES = [(name, impl) for name in CONTROLS for impl in ("floor", LIBRARY[name])]


@functools.cache
def control_of(name: str) -> Control:
    return build_control(name)


@pytest.mark.parametrize(("name", "impl"), CONTROL_CASES, ids=[f"{n}-{i}" for n, i in CONTROL_CASES])
def test_control_verifies_beside_its_floor(benchmark: Any, name: str, impl: str) -> None:
    control = control_of(name)
    benchmark.group = f"control:{name}"
    benchmark.extra_info.update(format=name, op="verify", impl=impl, kind="access", case="ok")
    verify = control.floor if impl == "floor" else control.verify
    result = benchmark(verify, control.token)
    assert (result.sub if impl == "floor" else result["sub"]) == control.sub


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


REJECT_CASES: Final = {
    "bad-signature": "token_bad_signature",
    "wrong-kind": "token_wrong_kind",
    "garbage": "token_malformed",
}
"""What each rejection case presents as an access token, by the code it must be refused with."""


def rejected_token(subject: Subject, case: str) -> str:
    """The token a rejection case presents as an access token (wrong kind: a valid refresh token)."""
    return {
        "bad-signature": subject.bad_signature,
        "wrong-kind": subject.refresh,
        "garbage": subject.garbage,
    }[case]


@pytest.mark.parametrize(("case", "code"), list(REJECT_CASES.items()), ids=list(REJECT_CASES))
@pytest.mark.parametrize("name", list(FormatName), ids=FORMAT_IDS)
def test_tokenbench_rejects_invalid_token(benchmark: Any, name: FormatName, case: str, code: str) -> None:
    subject = subject_of(name)
    token = rejected_token(subject, case)

    def reject() -> str:
        try:
            subject.fmt.verify(token, kind=Kind.ACCESS)
        except TokenError as exc:
            return exc.code
        raise AssertionError("an invalid token verified")

    _label(benchmark, "tokenbench", name, "reject", "tokenbench", case=case)
    assert benchmark(reject) == code


@functools.cache
def window_of(name: FormatName) -> Migration:
    """The issued format of ``name``'s subject with every other format accepted (the most labels)."""
    subject = subject_of(name)
    window = Migration(subject.fmt, [ephemeral(other) for other in FormatName if other != name])
    window.verify(subject.access, kind=Kind.ACCESS)  # as in a running service: the header is known
    return window
