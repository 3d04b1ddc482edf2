"""The failure-mode page rendered from fixed results (no service): what an evaluator reads first, short
cells, each reason once, and every count in the verdict computed from the cells."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

import pytest

from formats import FormatName
from service.attacks.matrix import (
    SERVICE_ROW_NOTE,
    Guard,
    Notes,
    Report,
    cell_guard,
    render_json,
    render_markdown,
    service_text,
)
from service.attacks.model import (
    ALL_FORMATS,
    JWT_FORMATS,
    PASETO_FORMATS,
    REJECT,
    Attack,
    LibraryObservation,
    Observation,
    Outcome,
    Section,
    Verdict,
    deployment,
    every,
    row,
    structural,
)
from service.attacks.runner import Cell

MAX_ROW = 500
"""No table row of the page is longer than this (the matrix once had 1,000-character rows)."""
NO_HEADER = "PASETO has no alg header"
NO_KEY_SET = "this deployment publishes no key set"

HEADER_ROW = Attack(
    "T-HEADER",
    "A header the format may not have",
    Section.SIGNATURE,
    row(REJECT, REJECT, REJECT, structural(NO_HEADER), structural(NO_HEADER)),
)
CLAIM_ROW = Attack("T-CLAIM", "A claim the library does not check", Section.CLAIMS, every(REJECT))
KEY_SET_ROW = Attack(
    "T-KEY-SET",
    "A key set to fetch",
    Section.KEY_SELECTION,
    row(deployment(NO_KEY_SET), REJECT, REJECT, deployment(NO_KEY_SET), deployment(NO_KEY_SET)),
)
SESSION_ROW = Attack(
    "T-SESSION", "A refresh token replayed", Section.CLAIMS, every(REJECT), library_decides=False
)
ATTACKS = (HEADER_ROW, CLAIM_ROW, KEY_SET_ROW, SESSION_ROW)


def _rejected(n: int = 1) -> tuple[Observation, ...]:
    return tuple(Observation(f"variant {i}", Outcome.REJECTED, "401 token_malformed") for i in range(n))


def _library(*verdicts: Verdict) -> tuple[LibraryObservation, ...]:
    return tuple(
        LibraryObservation(f"variant {i}", verdict, "detail", verdict) for i, verdict in enumerate(verdicts)
    )


def fixture_report(lets_claim_through: Sequence[FormatName]) -> Report:
    """Four rows in five formats; the bare library lets ``T-CLAIM`` through in ``lets_claim_through``."""
    cells: dict[tuple[str, FormatName], Cell] = {}
    for name in ALL_FORMATS:
        if name in PASETO_FORMATS:
            # Probed anyway although structurally impossible; a check that held, not a rejection.
            held = (Observation("decoded without the key", Outcome.HELD, "ciphertext"),)
            cells[(HEADER_ROW.id, name)] = Cell(HEADER_ROW, name, held, _library(Verdict.REJECTS))
        else:
            cells[(HEADER_ROW.id, name)] = Cell(HEADER_ROW, name, _rejected(3), _library(Verdict.REJECTS))
        claim_verdict = Verdict.ACCEPTS if name in lets_claim_through else Verdict.REJECTS
        cells[(CLAIM_ROW.id, name)] = Cell(
            CLAIM_ROW, name, _rejected(2), _library(Verdict.REJECTS, claim_verdict)
        )
        key_set = _rejected() if KEY_SET_ROW.applies[name].applies else ()
        cells[(KEY_SET_ROW.id, name)] = Cell(KEY_SET_ROW, name, key_set, _library(Verdict.REJECTS))
        cells[(SESSION_ROW.id, name)] = Cell(SESSION_ROW, name, _rejected(), _library(Verdict.ACCEPTS))
    return Report(target="fixture", formats=tuple(FormatName), attacks=ATTACKS, cells=cells)


def render(report: Report) -> str:
    return render_markdown(report, command="tokenbench attacks --format all")


@pytest.fixture
def page() -> str:
    return render(fixture_report(lets_claim_through=PASETO_FORMATS))


def _section(page: str, heading: str) -> str:
    return page.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]


def _table_rows(page: str) -> list[str]:
    return [line for line in page.splitlines() if line.startswith("|")]


def _matrix_row(page: str, attack: Attack) -> list[str]:
    line = next(line for line in _table_rows(page) if line.startswith(f"| `{attack.id}` "))
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))]


def test_the_verdict_comes_first_then_the_reading_guide(page: str) -> None:
    headings = [line for line in page.splitlines() if line.startswith("## ")]
    assert headings[:3] == ["## Verdict", "## How to read this", "## Summary"]


def test_the_verdict_counts_who_stops_each_row_per_format(page: str) -> None:
    verdict = _section(page, "Verdict")
    header = next(line for line in verdict.splitlines() if line.startswith("| family |"))
    assert header == "| family | " + " | ".join(name.value for name in FormatName) + " |"
    signature = next(
        line for line in verdict.splitlines() if line.startswith("| Signature & algorithm (1) |")
    )
    assert signature.count("1 construction") == 2
    assert signature.count("1 library") == 3
    claims = next(line for line in verdict.splitlines() if line.startswith("| Claims & lifecycle (2) |"))
    assert claims.count("1 service only · 1 service row") == 2
    assert claims.count("1 library · 1 service row") == 3


def test_the_finding_is_computed_from_the_cells() -> None:
    more = _section(render(fixture_report(lets_claim_through=PASETO_FORMATS)), "Verdict")
    assert "let through** at least one variant of 0, 0, 0, 1 and 1 of the 3 rows a library decides" in more
    assert "the bare PASETO libraries let more rows through than pyjwt: 1 and 1 against 0, 0 and 0" in more
    assert "**PASETO prevents by construction** 1 and 1 rows" in more

    fewer = _section(render(fixture_report(lets_claim_through=JWT_FORMATS)), "Verdict")
    assert "let through** at least one variant of 1, 1, 1, 0 and 0 of the 3 rows" in fewer
    assert "let fewer rows through than pyjwt: 0 and 0 against 1, 1 and 1" in fewer

    mixed = _section(
        render(fixture_report(lets_claim_through=(FormatName.JWT_HS256, FormatName.PASETO_V4_LOCAL))),
        "Verdict",
    )
    assert "let about as many rows through as pyjwt: 1 and 0 against 1, 0 and 0" in mixed


def test_which_format_needs_which_care_names_the_rows_the_library_lets_through(page: str) -> None:
    care = _section(page, "Verdict").split("**Which format needs which care**", 1)[1]
    assert "* **paseto-v4-local**: the service for 1 rows (Claims & lifecycle: `T-CLAIM`)" in care
    assert "* **jwt-hs256**: the service for 0 rows; a careful library for 2 more." in care


def test_no_table_row_is_longer_than_the_limit(page: str) -> None:
    long_rows = [line[:80] for line in _table_rows(page) if len(line) > MAX_ROW]
    assert long_rows == []


def test_each_reason_is_written_once_as_a_footnote(page: str) -> None:
    for why in (NO_HEADER, NO_KEY_SET, SERVICE_ROW_NOTE):
        assert page.count(why) == 1, why
    assert re.search(r"^\[\^\d+\]: PASETO has no alg header$", page, re.MULTILINE)
    cells = _matrix_row(page, KEY_SET_ROW)
    note = cells[1].removeprefix("n/a")
    assert re.fullmatch(r"\[\^\d+\]", note)
    assert cells[4] == cells[5] == cells[1]


def test_a_structural_cell_probed_anyway_counts_what_happened(page: str) -> None:
    # Was `rejected 0/1 ()`: the text assumed every probe of a not-applicable cell was a rejection.
    cells = _matrix_row(page, HEADER_ROW)
    assert re.fullmatch(r"n/a: construction\[\^\d+\]; probed: held 1/1", cells[4])
    assert "()" not in page
    assert not re.search(r"\b0/\d", page)


def test_service_rows_show_no_library_verdict(page: str) -> None:
    cells = _matrix_row(page, SESSION_ROW)
    library = cells[6:]
    assert re.fullmatch(r"service row\[\^\d+\]", library[0])
    assert library[1:] == ["", "", "", ""]
    assert "accepts" not in " ".join(cells)


def test_service_rows_do_not_count_as_the_library_letting_through() -> None:
    report = fixture_report(lets_claim_through=())
    for name in FormatName:
        assert cell_guard(report.cell(SESSION_ROW, name)) is Guard.SERVICE_ROW
    assert "let through** at least one variant of 0, 0, 0, 0 and 0 of the 3 rows" in render(report)


def test_every_format_has_its_two_columns(page: str) -> None:
    header = next(line for line in _table_rows(page) if line.startswith("| attack |"))
    columns = [cell.strip() for cell in header.strip("|").split("|")]
    assert len(columns) == 1 + 2 * len(FormatName)
    for short in ("HS256", "ES256", "EdDSA", "v4.local", "v4.public"):
        assert f"tokenbench {short}" in columns
        assert f"bare library {short}" in columns


def test_json_carries_each_cells_guard() -> None:
    document = json.loads(render_json(fixture_report(lets_claim_through=PASETO_FORMATS)))
    by_id: Mapping[str, object] = {attack["id"]: attack for attack in document["attacks"]}
    claim = by_id["T-CLAIM"]
    assert isinstance(claim, dict)
    assert claim["formats"]["paseto-v4-local"]["guard"] == Guard.SERVICE.value
    assert claim["formats"]["jwt-hs256"]["guard"] == Guard.LIBRARY.value


def test_a_cell_text_never_shows_an_outcome_that_did_not_happen() -> None:
    cell = Cell(CLAIM_ROW, FormatName.JWT_HS256, (*_rejected(2), Observation("x", Outcome.REFUSED, "r")))
    assert service_text(cell, Notes()) == "rejected 2/3; refused at start-up 1/3"
