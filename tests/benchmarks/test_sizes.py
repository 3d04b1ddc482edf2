"""Token sizes come from one source, ``benchmarks.sizes``; every page and the running service agree with it.

The source issues through the service's own login code; a page that states a size (a Markdown table row
``| `format` | access | refresh |`` or a phrase ``N bytes``) must state one of its figures, and the
service answering ``POST /auth/login`` over HTTP must issue exactly those sizes, in all five formats.
"""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
import pytest
from litestar.testing import TestClient

from benchmarks.http_level import USERNAME
from benchmarks.report import SIZES_CLAIMS, reference_sizes_table, render_table, sizes_table
from benchmarks.results import Results, SizeRow, read_results
from benchmarks.sizes import SIZES_USER, check_issued, issue_pair, size_row, token_sizes
from benchmarks.subjects import AUDIENCE, ISSUER
from formats import FormatName
from formats.inspect import explain
from formats.keys import generate_key_file
from service.app import create_app
from service.auth.credentials import RefreshCookie
from service.auth.roles import Role
from service.settings import Argon2Params, Secret, Settings

ROOT = Path(__file__).resolve().parents[2]
REPORT_JSON = ROOT / "docs" / "benchmarks.json"
GENERATED_ELSEWHERE = {"benchmarks.md", "failure-modes.md"}
"""The report is checked through its JSON below; the attack matrix states key and signature lengths only."""
PAGES = [
    p
    for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    if p.name not in GENERATED_ELSEWHERE
]
ROW = re.compile(r"^\| `(?P<fmt>[a-z0-9-]+)` \| (?P<access>\d+) \| (?P<refresh>\d+) \|", re.MULTILINE)
PHRASE = re.compile(r"\b(?P<n>[1-9]\d{2,3})(?:[ -]bytes?\b| bytes on the wire)")
TOKEN_RANGE = range(300, 2000)
"""A stated byte count in this range is a token or header size (keys, signatures, ids are far smaller)."""


@pytest.fixture(scope="module")
def sizes() -> dict[str, SizeRow]:
    return {row.format: row for row in token_sizes()}


def _stated_rows(text: str) -> list[tuple[str, int, int]]:
    formats = {f.value for f in FormatName}
    return [
        (m["fmt"], int(m["access"]), int(m["refresh"])) for m in ROW.finditer(text) if m["fmt"] in formats
    ]


def test_the_source_issues_every_format_with_the_services_claims(sizes: dict[str, SizeRow]) -> None:
    assert list(sizes) == [f.value for f in FormatName]
    for row in sizes.values():
        # refresh drops perms (two permissions of the user role) and adds fam and ver: shorter
        assert 300 < row.refresh_bytes < row.access_bytes < 600, row
        assert row.authorization_header_bytes == len("Authorization: Bearer \r\n") + row.access_bytes
        assert row.cookie_header_bytes == len("Cookie: __Host-refresh_token=\r\n") + row.refresh_bytes


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_page_states_the_sizes_of_the_one_source(page: Path, sizes: dict[str, SizeRow]) -> None:
    text = page.read_text(encoding="utf-8")
    for fmt, access, refresh in _stated_rows(text):
        expected = sizes[fmt]
        assert (access, refresh) == (expected.access_bytes, expected.refresh_bytes), (
            f"{page.name} says {fmt} tokens are {access}/{refresh} bytes; benchmarks/sizes.py issues "
            f"{expected.access_bytes}/{expected.refresh_bytes}"
        )
    allowed = {n for row in sizes.values() for n in msgspec.structs.astuple(row)[1:]}
    for match in PHRASE.finditer(text):
        stated = int(match["n"])
        if stated in TOKEN_RANGE:
            assert stated in allowed, f"{page.name}: {match[0]!r} is no size benchmarks/sizes.py measures"


def test_the_pages_that_state_sizes_are_the_ones_the_source_names() -> None:
    stating = {p.name for p in PAGES if _stated_rows(p.read_text())}
    assert {"formats.md", "migration.md"} <= stating
    # what a page states with "N bytes" is checked too: the tutorial's inspect transcript, the anatomy
    assert "432 bytes on the wire" in (ROOT / "docs" / "tutorial.md").read_text()


def test_a_page_with_other_sizes_fails_the_check(sizes: dict[str, SizeRow]) -> None:
    """The check reads what the issue found (formats.md's 466 against the report's 445): it would fail."""
    stale = "| `jwt-hs256` | 466 | 439 |\nAccess token, 445 bytes:"
    ((fmt, access, _),) = _stated_rows(stale)
    assert access != sizes[fmt].access_bytes
    assert int(next(PHRASE.finditer(stale))["n"]) not in {sizes[f].access_bytes for f in sizes}


@pytest.mark.parametrize("name", list(FormatName), ids=str)
def test_a_running_service_issues_the_sizes_of_the_one_source(
    name: FormatName, tmp_path: Path, sizes: dict[str, SizeRow]
) -> None:
    """POST /auth/login over the app's HTTP interface, default settings: both tokens as measured."""
    generate_key_file(tmp_path / "keys", name)
    url = f"sqlite+aiosqlite:///{tmp_path / 'service.db'}"
    settings = Settings(
        format=name,
        database_url=Secret(url, shown=url),
        keys_dir=tmp_path / "keys",
        argon2=Argon2Params(time_cost=1, memory_cost=8, parallelism=1),
    )
    app = create_app(settings)
    with TestClient(app, base_url="https://tokenbench.test") as client:
        services = app.state.services

        async def add() -> None:
            password_hash = await services.hasher.hash("a long enough password")
            await services.stores.users.create(
                SIZES_USER, role=Role.USER.value, password_hash=password_hash, now=0.0
            )

        with client.portal() as portal:
            portal.call(add)
        response = client.post(
            "/auth/login", json={"username": SIZES_USER, "password": "a long enough password"}
        )
    assert response.status_code == 200, response.text
    cookie = RefreshCookie.of(secure=settings.cookie_secure).name
    (set_cookie,) = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{cookie}=")]
    refresh = set_cookie.split(";", 1)[0].split("=", 1)[1]
    issued = size_row(name.value, response.json()["access_token"], refresh, cookie=cookie)
    check_issued(issued, sizes[name.value])  # raises with both figures when they differ
    assert issued == sizes[name.value]


def test_check_issued_names_both_figures_when_a_server_disagrees(sizes: dict[str, SizeRow]) -> None:
    row = sizes["paseto-v4-public"]
    wrong = msgspec.structs.replace(row, access_bytes=row.access_bytes + 20)
    with pytest.raises(RuntimeError, match=rf"issued {row.access_bytes + 20}/.* says {row.access_bytes}/"):
        check_issued(wrong, row)


def test_the_report_footnote_says_what_refresh_tokens_drop_and_add() -> None:
    """The claims named in the note are those the service's login puts in each kind of token."""
    settings = Settings(format=FormatName.JWT_HS256, issuer=ISSUER, audience=AUDIENCE)
    access, refresh = (set(explain(token).claims or {}) for token in issue_pair(settings))
    assert refresh - access == {"fam", "ver"}
    assert access - refresh == {"perms"}
    assert "**drops perms** and adds fam and ver" in SIZES_CLAIMS


def test_the_committed_report_states_the_sizes_of_the_one_source(sizes: dict[str, SizeRow]) -> None:
    """docs/benchmarks.json: the reference table is the source's, and the run's servers issued its sizes
    for the benchmark's settings (issuer and audience set, a five-character user, the plain cookie)."""
    results: Results = read_results(REPORT_JSON)
    assert {r.format: r for r in results.reference_sizes} == sizes, "regenerate the report: `make bench`"
    bench = Settings(issuer=ISSUER, audience=AUDIENCE, cookie_secure=False)
    measured = {r.format: r for r in token_sizes(bench, username=USERNAME)}
    for row in results.sizes:
        assert row == measured[row.format], row
    table = render_table(reference_sizes_table(results) or sizes_table(results))
    for row in sizes.values():
        assert f"| {row.format} | {row.access_bytes} | {row.refresh_bytes} |" in table
