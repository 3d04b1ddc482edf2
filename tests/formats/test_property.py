"""Property tests, every format: nothing but a token we issued verifies, and nothing but ``TokenError``
ever comes out of ``verify``.

Inputs: random text, random bytes read as Latin-1, and mutations of valid tokens (character flips,
deletions, insertions, truncations, segment swaps, duplications and splices with another valid token of
the same key). Strict parsing means a token has exactly one accepted spelling, so *any* string that differs
from a valid token must be refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from formats import Claims, FormatName, Kind, TokenError, TokenFormat, ephemeral

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PROPERTY = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TOKEN_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ v4"


@dataclass(frozen=True)
class Issued:
    fmt: TokenFormat
    access: str
    refresh: str


@pytest.fixture(scope="module", params=list(FormatName), ids=[f.value for f in FormatName])
def issued(request: pytest.FixtureRequest) -> Issued:
    fmt = ephemeral(request.param, clock=lambda: NOW)
    claims = Claims(
        sub="user-1", role="user", perms=("a:b",), iat=NOW, exp=NOW + timedelta(minutes=15), jti="j-1"
    )
    refresh = Claims(**{**{f: getattr(claims, f) for f in claims.__struct_fields__}, "fam": "f", "ver": 0})
    issued = Issued(fmt, fmt.issue(claims, kind=Kind.ACCESS), fmt.issue(refresh, kind=Kind.REFRESH))
    assert fmt.verify(issued.access, kind=Kind.ACCESS) == claims
    assert fmt.verify(issued.refresh, kind=Kind.REFRESH) == refresh
    return issued


def refuses(fmt: TokenFormat, token: str) -> None:
    for kind in Kind:
        with pytest.raises(TokenError):
            fmt.verify(token, kind=kind)


@PROPERTY
@given(text=st.text(max_size=600))
def test_random_text_never_verifies(issued: Issued, text: str) -> None:
    refuses(issued.fmt, text)


@PROPERTY
@given(data=st.binary(max_size=600))
def test_random_bytes_read_as_latin1_never_verify(issued: Issued, data: bytes) -> None:
    refuses(issued.fmt, data.decode("latin-1"))


@PROPERTY
@given(
    text=st.text(TOKEN_CHARS, max_size=400), prefix=st.sampled_from(["", "v4.local.", "v4.public.", "eyJ"])
)
def test_random_token_alphabet_text_never_verifies(issued: Issued, text: str, prefix: str) -> None:
    refuses(issued.fmt, prefix + text)


def mutate(token: str, other: str, draw: st.DrawFn) -> str:
    """One structural or character-level change, chosen by hypothesis."""
    segments, others = token.split("."), other.split(".")
    position = draw(st.integers(0, max(len(token) - 1, 0)))
    kind = draw(
        st.sampled_from(
            ["flip", "delete", "insert", "truncate", "swap", "duplicate", "drop", "splice", "case"]
        )
    )
    if kind == "flip":
        return token[:position] + draw(st.characters()) + token[position + 1 :]
    if kind == "delete":
        return token[:position] + token[position + draw(st.integers(1, 8)) :]
    if kind == "insert":
        return token[:position] + draw(st.text(TOKEN_CHARS, min_size=1, max_size=8)) + token[position:]
    if kind == "truncate":
        return token[:position]
    if kind == "case":
        return token[:position] + token[position:].swapcase()
    i = draw(st.integers(0, len(segments) - 1))
    j = draw(st.integers(0, len(segments) - 1))
    if kind == "swap":
        segments[i], segments[j] = segments[j], segments[i]
    elif kind == "duplicate":
        segments.insert(i, segments[j])
    elif kind == "drop":
        del segments[i]
    else:  # splice: a segment of another valid token of the same key
        segments[i] = others[min(j, len(others) - 1)]
    return ".".join(segments)


@st.composite
def mutations(draw: st.DrawFn, issued: Issued) -> tuple[str, Kind]:
    """A valid token of either kind after one to three mutations."""
    kind = draw(st.sampled_from(Kind))
    token, other = (issued.access, issued.refresh) if kind is Kind.ACCESS else (issued.refresh, issued.access)
    for _ in range(draw(st.integers(1, 3))):
        token = mutate(token, other, draw)
    return token, kind


@PROPERTY
@given(data=st.data())
def test_mutated_valid_token_never_verifies_as_either_kind(issued: Issued, data: st.DataObject) -> None:
    token, _ = data.draw(mutations(issued))
    assume(token not in (issued.access, issued.refresh))
    refuses(issued.fmt, token)
