"""The migration window's rows, for every ordered pair of formats: nothing gets through, nothing 5xx, and
every refusal carries the code the window's dispatch implies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import permutations

import pytest

from formats import FORMATS, Claims, FormatName, Kind, ephemeral
from formats.migration import token_label
from service.attacks.matrix import Report
from service.attacks.migration import MIGRATION_ATTACKS, relabel
from service.attacks.model import Outcome

PAIRS = list(permutations(FormatName, 2))
IDS = [f"{old.value}->{new.value}" for old, new in PAIRS]


@pytest.mark.parametrize(("old", "new"), PAIRS, ids=IDS)
def test_every_migration_row_holds_in_every_window(
    attack_report: Report, old: FormatName, new: FormatName
) -> None:
    migration = attack_report.migration
    assert migration is not None
    for attack in MIGRATION_ATTACKS:
        observations = migration.cells[(attack.id, old, new)]
        assert observations, attack.id
        wrong = [obs for obs in observations if obs.outcome not in (Outcome.REJECTED, Outcome.HELD)]
        assert wrong == [], (attack.id, wrong)


def test_the_matrix_shows_every_ordered_pair(attack_report: Report) -> None:
    assert attack_report.migration is not None
    assert set(attack_report.migration.pairs) == set(PAIRS)
    assert not attack_report.failed


@pytest.mark.parametrize(("old", "new"), PAIRS, ids=IDS)
def test_a_relabelled_token_carries_the_new_label(old: FormatName, new: FormatName) -> None:
    now = datetime.now(UTC)
    claims = Claims(sub="u", role="user", iat=now, exp=now + timedelta(minutes=5), jti="j")
    token = ephemeral(old).issue(claims, kind=Kind.ACCESS)
    assert token_label(relabel(token, old, new)) == FORMATS[new].token_label
