"""The suite covers the catalog: every row, with the catalog's expected outcome per format.

``CATALOG.md`` here is the project's attack catalog, copied unchanged so the check runs on a fresh clone.
It has four format columns (HS256, ES256, v4.local, v4.public); ``jwt-eddsa`` came later, so its expected
outcome is the ES256 column's (the other JWT format with a published key), except where Ed25519 differs
(``EDDSA_DEVIATIONS``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from formats import FormatName
from service.attacks.catalog import ATTACKS, BY_ID
from service.attacks.model import Attack, Expect

CATALOG = Path(__file__).with_name("CATALOG.md")
_ROW = re.compile(r"\| `([A-Z0-9-]+)` \|")

DEVIATIONS = {
    ("PASETO-NONCE-MISUSE", FormatName.PASETO_V4_LOCAL): (
        Expect.STARTUP,
        Expect.HOLD,
        "the guard is the issuing code never passing a nonce (source check + distinct nonces of real tokens)",
    ),
    ("CROSS-FORMAT-KEY-REUSE", FormatName.PASETO_V4_PUBLIC): (
        Expect.NOT_THIS_DEPLOYMENT,
        Expect.STARTUP,
        "one Ed25519 key can be both the jwt-eddsa and the v4.public key (the catalog predates jwt-eddsa)",
    ),
    ("JWT-KEYCONF-ES-HS", FormatName.JWT_HS256): (
        Expect.NOT_THIS_DEPLOYMENT,
        Expect.STARTUP,
        "the start-up variant starts a jwt-hs256 service (a public key as its secret): its column is HS256's",
    ),
    **{
        ("JWT-KEYCONF-ES-HS", name): (
            Expect.REJECT_AND_STARTUP,
            Expect.REJECT,
            "the start-up variant is the HS256 column's: the service that must refuse is a jwt-hs256 one",
        )
        for name in (FormatName.JWT_ES256, FormatName.JWT_EDDSA)
    },
    **{
        ("REFRESH-CONCURRENT-RACE", name): (
            Expect.REJECT,
            Expect.HOLD,
            "the grace window (docs/design.md) gives a concurrent retry the same successor: one lineage",
        )
        for name in FormatName
    },
    **{
        ("LIFECYCLE-REVOKED-ACCESS", name): (
            Expect.REJECT,
            Expect.POLICY,
            "docs/design.md keeps access tokens stateless: revoked at exp, the refresh family at once",
        )
        for name in FormatName
    },
}
"""Where the suite's expected outcome differs from the catalog's legend, and why (shown in the matrix)."""

CATALOG_COLUMNS = (
    FormatName.JWT_HS256,
    FormatName.JWT_ES256,
    FormatName.PASETO_V4_LOCAL,
    FormatName.PASETO_V4_PUBLIC,
)

EDDSA_DEVIATIONS = {
    "JWT-ES-SIG-FORMAT": (Expect.REJECT, Expect.STRUCTURAL, "an Ed25519 signature has one 64-byte encoding"),
    "CROSS-FORMAT-KEY-REUSE": (
        Expect.NOT_THIS_DEPLOYMENT,
        Expect.STARTUP,
        "one Ed25519 key can be both the jwt-eddsa and the paseto-v4-public key",
    ),
}
"""Where jwt-eddsa's expected outcome differs from ES256's catalog legend, and why."""


def catalog_rows() -> dict[str, list[Expect]]:
    rows = {}
    for line in CATALOG.read_text(encoding="utf-8").splitlines():
        match = _ROW.match(line)
        if match:
            cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
            rows[match.group(1)] = [Expect(cell) for cell in cells[3:7]]
    return rows


def test_catalog_copy_has_every_section_row() -> None:
    assert len(catalog_rows()) == 46


def test_every_catalog_row_is_an_attack_of_the_suite() -> None:
    assert sorted(set(catalog_rows()) - set(BY_ID)) == []


def test_only_rows_marked_extra_are_missing_from_the_catalog() -> None:
    extra = {attack.id for attack in ATTACKS if attack.extra}
    assert set(BY_ID) - set(catalog_rows()) == extra
    assert len(extra) >= 5


def test_attacks_keep_the_catalog_order() -> None:
    catalog_order = list(catalog_rows())
    assert [attack.id for attack in ATTACKS if not attack.extra] == catalog_order


@pytest.mark.parametrize("attack_id", list(catalog_rows()))
def test_expected_outcome_per_format_is_the_catalogs(attack_id: str) -> None:
    attack = BY_ID[attack_id]
    for name, legend in zip(CATALOG_COLUMNS, catalog_rows()[attack_id], strict=True):
        expected = attack.applies[name].expect
        deviation = DEVIATIONS.get((attack_id, name))
        if deviation is None:
            assert expected is legend, f"{attack_id} in {name}: catalog says {legend}, suite says {expected}"
        else:
            assert (legend, expected) == deviation[:2]
            assert attack.applies[name].why, "a deviation from the catalog must say why in the matrix"


@pytest.mark.parametrize("attack_id", list(catalog_rows()))
def test_jwt_eddsa_expects_what_the_catalog_says_for_es256_unless_ed25519_differs(attack_id: str) -> None:
    attack = BY_ID[attack_id]
    es256_legend = catalog_rows()[attack_id][CATALOG_COLUMNS.index(FormatName.JWT_ES256)]
    expected = attack.applies[FormatName.JWT_EDDSA].expect
    deviation = DEVIATIONS.get((attack_id, FormatName.JWT_EDDSA)) or EDDSA_DEVIATIONS.get(attack_id)
    if deviation is None:
        assert expected is es256_legend, f"{attack_id}: ES256's legend is {es256_legend}, EdDSA's {expected}"
    else:
        assert (es256_legend, expected) == deviation[:2]


def test_every_format_has_a_column_or_an_explicit_mapping() -> None:
    assert set(FormatName) == {*CATALOG_COLUMNS, FormatName.JWT_EDDSA}


@pytest.mark.parametrize("attack", ATTACKS, ids=[attack.id for attack in ATTACKS])
def test_every_attack_has_a_way_to_run_and_a_reason_where_it_does_not_apply(attack: Attack) -> None:
    assert attack.probes or attack.scenario or attack.startup or attack.check
    for name, applicability in attack.applies.items():
        if not applicability.applies:
            assert applicability.why, f"{attack.id}/{name} is {applicability.expect} without a reason"


@pytest.mark.parametrize("attack", [a for a in ATTACKS if a.startup], ids=lambda a: a.id)
def test_every_start_up_case_is_credited_to_the_format_whose_service_it_starts(attack: Attack) -> None:
    assert attack.startup is not None
    misplaced = [
        (name.value, case.variant, case.format.value)
        for name in FormatName
        for case in attack.startup(name)
        if case.format is not name
    ]
    assert misplaced == []
