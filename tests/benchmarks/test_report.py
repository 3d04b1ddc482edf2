"""The report generator on a small recorded run (``recorded_run.json``: a ``tokenbench bench --smoke``).

The recorded run predates ``jwt-eddsa``: ``MEASURED`` is the formats it has, and the report says the
others were not measured in this run rather than leaving them out silently.
"""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
import pytest

from benchmarks.charts import write_charts
from benchmarks.report import (
    FORMATS,
    NOT_MEASURED,
    Table,
    Verdict,
    X,
    auth_overhead_table,
    cost_stack,
    formats_not_measured,
    login_load_table,
    operation_tables,
    ratio_spread,
    render_report,
    render_table,
    sizes_table,
    target_checks,
    verdict,
    verify_tables,
    window_table,
)
from benchmarks.results import HttpRow, Results, TokenRow, read_results, write_results

RECORDED = Path(__file__).with_name("recorded_run.json")
MEASURED = [f for f in FORMATS if f != "jwt-eddsa"]


@pytest.fixture(scope="module")
def results() -> Results:
    return read_results(RECORDED)


def _token(results: Results, fmt: str, impl: str) -> TokenRow:
    (row,) = (r for r in results.token if (r.format, r.op, r.impl, r.kind) == (fmt, "verify", impl, "access"))
    return row


def _http(results: Results, app: str, fmt: str, route: str, load: str = "") -> HttpRow:
    (row,) = (r for r in results.http if (r.app, r.format, r.route, r.load) == (app, fmt, route, load))
    return row


def test_report_has_every_section_and_every_format(results: Results) -> None:
    text = render_report(results, {"verify": "r/verify.png", "cost-stack": "r/cost-stack.png"})
    for heading in (
        "## Targets",
        "## How to read this",
        "## 1. Token level",
        "### Verify: floor, tokenbench and peers, per format",
        "### tokenbench operations, every format",
        "## 2. Request level",
        "### Routes of the service, per format",
        "#### GET /me",
        "#### POST /auth/refresh",
        "#### POST /auth/login",
        "### Auth overhead against the token-level verify and a minimal guard",
        "### Cost stack",
        "### Login load",
        "## 3. Sizes",
    ):
        assert heading in text, heading
    for fmt in MEASURED:
        assert f"#### {fmt}: verify an access token" in text
        assert len(re.findall(rf"^\| {fmt} \|", text, flags=re.MULTILINE)) >= 10, fmt
    assert "![verify an access token" in text
    assert "(r/cost-stack.png)" in text
    assert "![requests per second" not in text  # only the charts that were drawn are linked


def test_header_names_machine_versions_commit_and_method(results: Results) -> None:
    text = render_report(results, {})
    meta = results.meta
    assert f"{meta.cpu_model}, {meta.cores} cores" in text
    assert f"**Python** {meta.python}" in text
    assert f"litestar {meta.libraries['litestar']}" in text
    assert f"`{meta.commit}`" in text
    assert meta.token_method in text
    assert meta.http_method in text
    assert f"`{meta.command}`" in text


def test_a_quick_run_says_so_at_the_top_and_a_full_run_does_not(results: Results) -> None:
    quick = msgspec.structs.replace(results, meta=msgspec.structs.replace(results.meta, mode="quick"))
    full = msgspec.structs.replace(results, meta=msgspec.structs.replace(results.meta, mode="full"))
    assert "**QUICK RUN**" in render_report(quick, {}).split("## Targets")[0]
    assert "RUN**" not in render_report(full, {})


def test_verify_table_shows_floor_tokenbench_then_peers_with_both_ratios(results: Results) -> None:
    table = next(t for t in verify_tables(results) if t.title.startswith("jwt-hs256"))
    names = [row[0] for row in table.rows]
    assert names[:2] == ["floor", "**tokenbench**"]
    assert set(names[2:]) == {"pyjwt", "litestar", "joserfc"}
    floor, ours = _token(results, "jwt-hs256", "floor"), _token(results, "jwt-hs256", "tokenbench")
    fastest = min(r.median_us for r in results.token if r.format == "jwt-hs256" and r.op == "verify")
    assert table.rows[1][4] == f"{ours.median_us / floor.median_us:.2f}{X}"
    assert table.rows[1][3] == f"{ours.median_us / fastest:.2f}{X}"
    assert table.rows[0][4] == f"1.00{X}"


def test_operation_tables_cover_issue_verify_and_both_rejections_for_every_format(results: Results) -> None:
    tables = operation_tables(results)
    assert [t.title for t in tables] == [
        "Verify an access token",
        "Verify a refresh token",
        "Issue an access token",
        "Issue a refresh token",
        "Reject a token with a bad signature (one bit flipped)",
        "Reject garbage of the same length",
    ]
    for table in tables:
        assert [row[0] for row in table.rows] == MEASURED
        assert f"1.00{X}" in [row[4] for row in table.rows]  # the fastest format


def test_auth_overhead_is_me_minus_open_server_cpu(results: Results) -> None:
    table = auth_overhead_table(results)
    row = next(r for r in table.rows if r[:2] == ("service", "paseto-v4-public"))
    me = _http(results, "service", "paseto-v4-public", "me")
    open_ = _http(results, "service", "paseto-v4-public", "open")
    assert row[4] == f"{me.cpu_us - open_.cpu_us:,.0f}"
    guard = (
        _http(results, "minimal-guard", "paseto-v4-public", "me").cpu_us
        - _http(results, "minimal-guard", "paseto-v4-public", "open").cpu_us
    )
    assert row[6] == f"{(me.cpu_us - open_.cpu_us) / guard:.2f}{X}"
    assert any(r[0] == "jwtauth" for r in table.rows)


def test_cost_stack_layers_add_up_to_the_cpu_of_one_get_me(results: Results) -> None:
    stack = cost_stack(results)
    assert list(stack) == MEASURED
    for fmt, layers in stack.items():
        assert list(layers) == ["primitive", "library", "service", "HTTP"]
        assert sum(layers.values()) == pytest.approx(_http(results, "service", fmt, "me").cpu_us)
        assert layers["primitive"] == _token(results, fmt, "floor").median_us


def test_targets_are_judged_from_the_measured_ratios(results: Results) -> None:
    checks = {(c.target, c.scope): c for c in target_checks(results)}
    for fmt in MEASURED:
        floor, ours = _token(results, fmt, "floor"), _token(results, fmt, "tokenbench")
        check = checks[(f"verify within 1.3{X} of the floor", fmt)]
        assert f"= {ours.median_us / floor.median_us:.2f}{X}" in check.measured
    ours, theirs = _http(results, "service", "jwt-hs256", "me"), _http(results, "jwtauth", "jwt-hs256", "me")
    jwtauth = checks[(f"GET /me at least 2{X} the req/s of Litestar JWTAuth", "jwt-hs256")]
    assert jwtauth.verdict is (Verdict.HOLDS if ours.rps >= 2 * theirs.rps else Verdict.MISSES)
    login = checks[(f"GET /me p99 under login load within 2{X} of p99 alone", "jwt-hs256")]
    loaded = _http(results, "service", "jwt-hs256", "me", "8 clients log in continuously")
    assert login.verdict is (Verdict.HOLDS if loaded.p99_ms <= 2 * ours.p99_ms else Verdict.MISSES)


def test_targets_without_measurements_say_not_measured(results: Results) -> None:
    token_only = msgspec.structs.replace(results, http=(), sizes=())
    checks = target_checks(token_only)
    not_measured = [c for c in checks if c.verdict is None and c.scope != "jwt-eddsa"]
    assert {c.target for c in not_measured} == {
        f"GET /me at least 2{X} the req/s of Litestar JWTAuth",
        f"GET /me p99 under login load within 2{X} of p99 alone",
    }
    text = render_report(token_only, {})
    assert "— not measured" in text
    assert "Not measured in this run." in text


def test_a_format_missing_from_an_older_run_is_said_not_measured_never_filled_in(results: Results) -> None:
    assert formats_not_measured(results) == ["jwt-eddsa"]
    text = render_report(results, {})
    assert f"* **{NOT_MEASURED}**: `jwt-eddsa`" in text
    assert ("every target", "jwt-eddsa", NOT_MEASURED, None) in [
        (c.target, c.scope, c.measured, c.verdict) for c in target_checks(results)
    ]
    assert not re.search(r"^\| jwt-eddsa \| [0-9]", text, flags=re.MULTILINE)  # no figures for it
    complete = msgspec.structs.replace(results, token=(*results.token, _relabelled(results, "jwt-eddsa")))
    assert "jwt-eddsa" not in formats_not_measured(complete)


def _relabelled(results: Results, fmt: str) -> TokenRow:
    return msgspec.structs.replace(_token(results, "jwt-es256", "tokenbench"), format=fmt)


def test_login_load_table_sets_p99_against_the_same_route_alone(results: Results) -> None:
    table = login_load_table(results)
    assert table is not None
    alone = _http(results, "service", "jwt-hs256", "me")
    loaded = _http(results, "service", "jwt-hs256", "me", "8 clients log in continuously")
    assert table.rows[1][4] == f"{loaded.p99_ms / alone.p99_ms:.2f}{X}"


def test_sizes_table_counts_the_headers_as_sent(results: Results) -> None:
    table = sizes_table(results)
    assert [row[0] for row in table.rows] == MEASURED
    for size, row in zip(
        sorted(results.sizes, key=lambda s: MEASURED.index(s.format)), table.rows, strict=True
    ):
        assert size.authorization_header_bytes == len("Authorization: Bearer \r\n") + size.access_bytes
        assert size.cookie_header_bytes == len("Cookie: refresh_token=\r\n") + size.refresh_bytes
        assert row[1] == str(size.access_bytes)


def test_render_table_right_aligns_numbers_and_keeps_words_left() -> None:
    table = Table("T", ("name", "µs", "ratio"), (("floor", "1.0", f"1.00{X}"), ("peer", "12.5", "n/a")))
    assert render_table(table).splitlines()[2:4] == ["| name | µs | ratio |", "|:---|---:|---:|"]


def test_results_survive_a_round_trip_through_json(results: Results, tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    write_results(results, path)
    assert read_results(path) == results


def test_charts_are_png_files_one_per_chart(results: Results, tmp_path: Path) -> None:
    charts = write_charts(results, tmp_path / "charts")
    assert set(charts) == {"verify-formats", "verify", "http", "cost-stack", "sizes"}
    for path in charts.values():
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert path.stat().st_size > 5000


def _window_row(fmt: str, case: str, median: float, iqr: float) -> TokenRow:
    return TokenRow(
        format=fmt,
        op="window-verify",
        impl="tokenbench",
        kind="access",
        case=case,
        median_us=median,
        iqr_us=iqr,
        mean_us=median,
        min_us=median,
        rounds=1000,
    )


def test_the_migration_window_rows_get_a_table_and_a_target(results: Results) -> None:
    assert window_table(results) is None  # the recorded run predates them: no table, no target
    assert not [c for c in target_checks(results) if "accepted formats" in c.target]
    rows = (
        _window_row("jwt-hs256", "issued-only", 10.0, 0.2),
        _window_row("jwt-hs256", "accepting", 10.3, 0.2),  # 1.03x: holds
        _window_row("paseto-v4-local", "issued-only", 20.0, 0.5),
        _window_row("paseto-v4-local", "accepting", 21.2, 2.0),  # 1.06x, but the IQR covers it: a tie
        _window_row("jwt-es256", "issued-only", 50.0, 0.5),
        _window_row("jwt-es256", "accepting", 60.0, 0.5),  # 1.20x: misses
    )
    with_window = msgspec.structs.replace(results, token=(*results.token, *rows))
    table = window_table(with_window)
    assert table is not None
    ratios = {row[0]: row[-1] for row in table.rows}
    assert ratios["jwt-hs256"] == f"1.03{X}"
    assert ratios["paseto-v4-local"].startswith(f"1.06{X} (tie: the IQR 2.0")
    checks = {c.scope: c for c in target_checks(with_window) if "accepted formats" in c.target}
    assert [checks[f].verdict for f in ("jwt-hs256", "paseto-v4-local", "jwt-es256")] == [
        Verdict.HOLDS,
        Verdict.MISSES,
        Verdict.MISSES,
    ]
    assert "tie" in checks["paseto-v4-local"].measured
    assert "### Migration window" in render_report(with_window, {})


def test_the_verdict_is_a_tie_when_the_spread_covers_the_target_whichever_side_the_median_is() -> None:
    assert verdict(1.2, 1.3) is Verdict.HOLDS
    assert verdict(1.4, 1.3) is Verdict.MISSES
    assert verdict(1.2, 1.3, (1.1, 1.35)) is Verdict.TIE
    assert verdict(1.4, 1.3, (1.25, 1.5)) is Verdict.TIE
    assert verdict(1.4, 1.3, (1.35, 1.5)) is Verdict.MISSES
    assert verdict(2.1, 2.0, at_least=True) is Verdict.HOLDS
    assert verdict(2.1, 2.0, (1.9, 2.3), at_least=True) is Verdict.TIE
    assert verdict(1.9, 2.0, (1.8, 1.95), at_least=True) is Verdict.MISSES


def test_the_spread_of_a_ratio_moves_each_median_by_half_its_iqr() -> None:
    low, high = ratio_spread(110.0, 20.0, 100.0, 10.0)
    assert (low, high) == pytest.approx((100.0 / 105.0, 120.0 / 95.0))
    assert ratio_spread(50.0, 0.0, 50.0, 0.0) == (1.0, 1.0)
