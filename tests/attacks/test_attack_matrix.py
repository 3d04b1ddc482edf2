"""The attack suite against the real service in every format: nothing gets through, nothing 5xx,
every refusal carries the expected code, and the bare libraries still behave as the catalog recorded."""

from __future__ import annotations

import pytest

from formats import FormatName
from service.attacks.catalog import ATTACKS, BY_ID
from service.attacks.matrix import Report, Status, cell_status
from service.attacks.model import Outcome

GOT_THROUGH: dict[tuple[str, FormatName], str] = {}
"""Cells where an attack currently gets through; strict xfail, so a fix turns them into failures to remove."""


def _cells() -> list[object]:
    return [
        pytest.param(
            attack.id,
            name,
            id=f"{attack.id}-{name.value}",
            marks=[pytest.mark.xfail(reason=GOT_THROUGH[(attack.id, name)], strict=True)]
            if (attack.id, name) in GOT_THROUGH
            else [],
        )
        for attack in ATTACKS
        for name in FormatName
    ]


@pytest.mark.parametrize(("attack_id", "name"), _cells())
def test_attack_does_not_get_through(attack_report: Report, attack_id: str, name: FormatName) -> None:
    cell = attack_report.cell(BY_ID[attack_id], name)
    assert [obs for obs in cell.service if obs.outcome is Outcome.ACCEPTED] == []


def test_no_variant_gets_a_5xx_or_crashes_the_service(attack_report: Report) -> None:
    errors = [
        (cell.attack.id, cell.format.value, obs.variant, obs.seen)
        for cell in attack_report.cells.values()
        for obs in cell.service
        if obs.outcome is Outcome.ERROR
    ]
    assert errors == []


def test_every_refusal_carries_the_expected_status_and_code(attack_report: Report) -> None:
    unexpected = [
        (cell.attack.id, cell.format.value, obs.variant, obs.seen, obs.expected)
        for cell in attack_report.cells.values()
        for obs in cell.service
        if obs.outcome is Outcome.UNEXPECTED
    ]
    assert unexpected == []


def test_every_applicable_attack_was_sent_in_process(attack_report: Report) -> None:
    idle = [
        (cell.attack.id, cell.format.value, cell_status(cell).value)
        for cell in attack_report.cells.values()
        if cell.attack.applies[cell.format].applies
        and (not cell.service or cell_status(cell) in (Status.NOT_RUN, Status.DEPLOYMENT))
    ]
    assert idle == []
    assert not [
        obs for cell in attack_report.cells.values() for obs in cell.service if obs.outcome is Outcome.NOT_RUN
    ]


def test_start_up_refusals_print_one_line_naming_the_file_or_variable(attack_report: Report) -> None:
    refusals = [
        obs for cell in attack_report.cells.values() for obs in cell.service if obs.outcome is Outcome.REFUSED
    ]
    assert len(refusals) > 40
    for obs in refusals:
        assert obs.seen.startswith("tokenbench: error: "), obs
        assert "\n" not in obs.seen
        assert obs.seen.startswith(
            ("tokenbench: error: $TOKENBENCH_KEYS_DIR/", "tokenbench: error: TOKENBENCH_")
        )


def test_bare_libraries_behave_as_the_catalog_recorded(attack_report: Report) -> None:
    changed = [
        (cell.attack.id, cell.format.value, obs.variant, obs.verdict.value, obs.detail, obs.recorded.value)
        for cell in attack_report.cells.values()
        for obs in cell.library
        if not obs.matches_record
    ]
    assert changed == [], "pyjwt or pyseto changed behaviour: update the records and the catalog note"


def test_bare_library_lets_through_what_tokenbench_refuses(attack_report: Report) -> None:
    """The point of the second set of columns: rows where the library alone accepts and the service holds."""
    for name in FormatName:
        holds_where_library_fails = [
            attack.id
            for attack in ATTACKS
            if any(obs.verdict.value == "accepts" for obs in attack_report.cell(attack, name).library)
            and cell_status(attack_report.cell(attack, name))
            in (Status.REJECTED, Status.REJECTED_AND_REFUSED)
        ]
        assert {"CLAIM-EXP-MISSING", "TOKEN-TYPE-CONFUSION", "PARSE-DUPLICATE-JSON-KEYS"} <= set(
            holds_where_library_fails
        ), name


def test_a_start_up_refusal_counts_in_the_column_of_the_service_that_refused(attack_report: Report) -> None:
    # The key-confusion start-up cases start a jwt-hs256 service; they were counted in ES256 and EdDSA.
    keyconf = BY_ID["JWT-KEYCONF-ES-HS"]
    refused = {
        name: [
            obs.variant for obs in attack_report.cell(keyconf, name).service if obs.outcome is Outcome.REFUSED
        ]
        for name in FormatName
    }
    assert len(refused[FormatName.JWT_HS256]) >= 10
    assert refused[FormatName.JWT_ES256] == refused[FormatName.JWT_EDDSA] == []
