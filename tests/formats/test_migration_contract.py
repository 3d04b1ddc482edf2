"""The format contract again, for every ordered pair of formats in a migration window.

Each test of :mod:`tests.formats.test_contract` (those that take the format under test as a fixture) runs
here once per ordered pair ``old -> new`` and per side:

* ``accepted``: the tokens come from the **old** format's ring, as the deployment issued them before the
  switch, and are verified by a :class:`formats.migration.Migration` that issues ``new`` and accepts
  ``old``: every rule of the old format (kind binding, times, spelling, key ids) still holds through it;
* ``issued``: the tokens come from the **new** format's ring and are verified by the window that also
  accepts ``old``: accepting a second format takes nothing away from the issued one.

The imported tests never branch on the format, and nothing here does either.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import permutations
from typing import Any

import pytest

from formats import ClaimPolicy, Claims, FormatName, Kind, TokenFormat, ephemeral
from formats.migration import Migration
from tests.conftest import FixedClock
from tests.formats.test_contract import (  # noqa: F401 - collected here again, per pair
    test_access_claims_bound_as_refresh_token_are_refused_by_both_kinds,
    test_access_token_presented_as_refresh_token_is_wrong_kind,
    test_changing_any_single_character_never_verifies,
    test_claim_of_the_wrong_type_is_claims_invalid,
    test_duplicate_claim_in_the_payload_is_rejected,
    test_duplicate_member_in_the_header_or_footer_is_rejected,
    test_extra_member_in_the_header_or_footer_is_malformed,
    test_garbage_is_malformed,
    test_header_or_footer_that_is_not_one_utf8_json_object_is_malformed,
    test_issued_access_token_verifies_to_the_same_claims,
    test_issued_refresh_token_verifies_to_the_same_claims,
    test_issuer_or_audience_mismatch_is_claims_invalid,
    test_non_canonical_base64_of_a_correctly_signed_token_is_malformed,
    test_oversized_token_is_malformed_even_when_correctly_signed,
    test_payload_that_is_not_one_utf8_json_object_is_malformed,
    test_refresh_claims_with_only_one_of_fam_and_ver_are_invalid,
    test_refresh_token_presented_as_access_token_is_wrong_kind,
    test_token_is_valid_at_exp_plus_leeway_and_expired_one_second_later,
    test_token_issued_in_the_future_beyond_the_leeway_is_not_yet_valid,
    test_token_signed_by_a_key_outside_the_ring_is_unknown_key,
    test_token_whose_exp_is_not_after_iat_is_claims_invalid,
    test_token_with_nbf_beyond_the_leeway_is_not_yet_valid,
    test_token_without_a_required_claim_is_claims_invalid,
    test_token_without_exp_is_claims_invalid,
    test_whitespace_around_a_valid_token_is_malformed,
)

PAIRS = [(old, new, side) for old, new in permutations(FormatName, 2) for side in ("accepted", "issued")]


class ThroughWindow:
    """One ring's tokens, verified by a migration window that holds that ring among others.

    ``issue`` is the ring's own (tokens as its deployment issued them); ``verify`` is the window's.
    """

    def __init__(self, ring: TokenFormat, window: Migration) -> None:
        self.ring = ring
        self.window = window
        self.name = ring.name

    @property
    def active_kid(self) -> str:
        return self.ring.active_kid

    @property
    def kids(self) -> tuple[str, ...]:
        return self.ring.kids

    def issue(self, claims: Claims, *, kind: Kind) -> str:
        return self.ring.issue(claims, kind=kind)

    def verify(self, token: str, *, kind: Kind) -> Claims:
        return self.window.verify(token, kind=kind)

    def well_known(self) -> Mapping[str, Any]:
        return self.window.well_known()


@pytest.fixture(params=PAIRS, ids=[f"{old.value}->{new.value}-{side}" for old, new, side in PAIRS])
def pair(request: pytest.FixtureRequest) -> tuple[FormatName, FormatName, str]:
    """``(old, new, side)``: the window issues ``new`` and accepts ``old``; ``side`` makes the tokens."""
    old, new, side = request.param
    return FormatName(old), FormatName(new), side


@pytest.fixture
def format_name(pair: tuple[FormatName, FormatName, str]) -> FormatName:
    """The format whose tokens the imported tests make (the forger's and the ring's)."""
    old, new, side = pair
    return old if side == "accepted" else new


def _through_window(
    ring: TokenFormat, pair: tuple[FormatName, FormatName, str], policy: ClaimPolicy, clock: FixedClock
) -> ThroughWindow:
    old, new, side = pair
    if side == "accepted":
        window = Migration(ephemeral(new, policy=policy, clock=clock), [ring])
    else:
        window = Migration(ring, [ephemeral(old, policy=policy, clock=clock)])
    return ThroughWindow(ring, window)


@pytest.fixture
def fmt(
    fmt: TokenFormat, pair: tuple[FormatName, FormatName, str], policy: ClaimPolicy, clock: FixedClock
) -> ThroughWindow:
    return _through_window(fmt, pair, policy, clock)


@pytest.fixture
def ring_fmt(
    ring_fmt: TokenFormat, pair: tuple[FormatName, FormatName, str], policy: ClaimPolicy, clock: FixedClock
) -> ThroughWindow:
    return _through_window(ring_fmt, pair, policy, clock)
