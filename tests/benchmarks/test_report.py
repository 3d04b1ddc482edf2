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
    algorithm_and_envelope_table,
    auth_overhead_table,
    cost_stack,
    envelope_table,
    formats_not_measured,
    login_load_table,
    operation_tables,
    ratio_spread,
    reject_table,
    render_report,
    render_table,
    sizes_table,
    target_checks,
    unreliable,
    verdict,
    verify_tables,
    window_table,
)
from benchmarks.results import HttpRow, RatioRow, Results, TokenRow, read_results, write_results

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


def test_the_header_names_the_ab_method_when_the_run_has_one(results: Results) -> None:
    assert "interleaved A/B" not in render_report(results, {}).split("## Targets")[0]
    method = "A and B alternate 25 times"
    meta = msgspec.structs.replace(results.meta, ratio_method=method)
    with_ab = msgspec.structs.replace(results, meta=meta)
    assert f"* **interleaved A/B** (window, rejections): {method}" in render_report(with_ab, {})


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
        ratio = ours.median_us / floor.median_us
        assert check.measured.startswith(f"{ratio:.2f}{X} (spread ")
        assert f"(median of {ours.rounds:,} rounds, IQR " in check.measured
        spread = ratio_spread(ours.median_us, ours.iqr_us, floor.median_us, floor.iqr_us)
        assert check.verdict is verdict(ratio, 1.3, spread)
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


def _ratio_row(fmt: str, comparison: str, case: str, median: float, q1: float, q3: float) -> RatioRow:
    return RatioRow(
        format=fmt,
        comparison=comparison,
        case=case,
        median=median,
        q1=q1,
        q3=q3,
        pairs=25,
        a_us=10.0,
        b_us=10.0 * median,
    )


def test_the_migration_window_is_judged_on_interleaved_ratios_and_their_quartiles(results: Results) -> None:
    assert window_table(results) is None  # the recorded run predates them: no table, no target
    assert not [c for c in target_checks(results) if "accepted formats" in c.target]
    rows = (
        _ratio_row("jwt-hs256", "window", "", 1.01, 0.99, 1.03),  # quartiles below 1.05: holds
        _ratio_row("paseto-v4-local", "window", "", 1.04, 1.01, 1.07),  # quartiles cover 1.05: a tie
        _ratio_row("jwt-es256", "window", "", 1.20, 1.15, 1.25),  # misses
    )
    with_window = msgspec.structs.replace(results, ratios=rows)
    table = window_table(with_window)
    assert table is not None
    cells = {row[0]: row[3] for row in table.rows}
    assert cells == {
        "jwt-hs256": f"1.01{X} (0.99-1.03): holds",
        "jwt-es256": f"1.20{X} (1.15-1.25): misses",
        "paseto-v4-local": f"1.04{X} (1.01-1.07): tie",
    }
    checks = {c.scope: c for c in target_checks(with_window) if "accepted formats" in c.target}
    assert [checks[f].verdict for f in ("jwt-hs256", "paseto-v4-local", "jwt-es256")] == [
        Verdict.HOLDS,
        Verdict.TIE,
        Verdict.MISSES,
    ]
    assert "median of 25 interleaved turns" in checks["jwt-hs256"].measured
    text = render_report(with_window, {})
    assert "### Migration window" in text
    assert "≈ tie (the spread covers the target)" in text


def test_rejections_get_a_table_and_one_target_per_format_judged_on_the_worse_case(results: Results) -> None:
    assert reject_table(results) is None
    rows = (
        _ratio_row("jwt-hs256", "reject", "bad-signature", 0.52, 0.51, 0.53),
        _ratio_row("jwt-hs256", "reject", "wrong-kind", 0.53, 0.52, 0.54),
        _ratio_row("paseto-v4-public", "reject", "bad-signature", 0.97, 0.93, 1.12),  # covers 1.1: tie
        _ratio_row("paseto-v4-public", "reject", "wrong-kind", 0.98, 0.95, 1.02),
        _ratio_row("jwt-es256", "reject", "bad-signature", 0.95, 0.93, 0.97),
        _ratio_row("jwt-es256", "reject", "wrong-kind", 2.7, 2.6, 2.8),  # one case misses: the target misses
    )
    with_rejects = msgspec.structs.replace(results, ratios=rows)
    table = reject_table(with_rejects)
    assert table is not None
    assert [row[0] for row in table.rows] == ["jwt-hs256", "jwt-es256", "paseto-v4-public"]
    assert table.rows[0][3] == f"0.52{X} (0.51-0.53): holds"
    checks = {c.scope: c for c in target_checks(with_rejects) if c.target.startswith("reject")}
    assert {fmt: c.verdict for fmt, c in checks.items()} == {
        "jwt-hs256": Verdict.HOLDS,
        "jwt-es256": Verdict.MISSES,
        "paseto-v4-public": Verdict.TIE,
    }
    assert checks["jwt-es256"].measured.startswith(f"bad signature 0.95{X} (quartiles 0.93-0.97); wrong kind")
    assert "### Rejections against a valid verify" in render_report(with_rejects, {})


def _verify_row(fmt: str, impl: str, median: float, iqr: float = 0.5) -> TokenRow:
    return TokenRow(
        format=fmt,
        op="verify",
        impl=impl,
        kind="access",
        case="ok",
        median_us=median,
        iqr_us=iqr,
        mean_us=median,
        min_us=median,
        rounds=500,
    )


def test_controls_and_the_two_envelopes_of_ed25519_are_set_against_their_floors(results: Results) -> None:
    extra = (
        _verify_row("jwt-eddsa", "floor", 40.0),
        _verify_row("jwt-eddsa", "tokenbench", 46.0),
        _verify_row("jwt-eddsa", "floor-cryptography", 90.0),
        _verify_row("jwt-eddsa", "pyjwt", 95.0),
        _verify_row("jwt-rs256", "floor", 30.0),
        _verify_row("jwt-rs256", "pyjwt", 60.0),
        _verify_row("jwe-dir-a256gcm", "floor", 5.0),
        _verify_row("jwe-dir-a256gcm", "joserfc", 50.0),
    )
    complete = msgspec.structs.replace(results, token=(*results.token, *extra))
    table = algorithm_and_envelope_table(complete)
    assert table is not None
    by_format = {row[0]: row for row in table.rows}
    assert by_format["jwt-rs256 (control)"][2:] == ("30.0", "pyjwt", "60.0", "30.0", f"2.00{X}")
    assert by_format["jwe-dir-a256gcm (control)"][3:] == ("joserfc", "50.0", "45.0", f"10.00{X}")
    assert set(by_format) == {*MEASURED, "jwt-eddsa", "jwt-rs256 (control)", "jwe-dir-a256gcm (control)"}
    pair = envelope_table(complete)
    assert pair is not None
    assert [row[0] for row in pair.rows] == ["jwt-eddsa", "paseto-v4-public"]
    public = _token(results, "paseto-v4-public", "tokenbench")
    assert pair.rows[1][5] == f"{public.median_us / 46.0:.2f}{X}"
    # the controls are no format of the service: no verify table, no target of their own
    assert not [t for t in verify_tables(complete) if "rs256" in t.title or "jwe" in t.title]
    assert not [c for c in target_checks(complete) if c.scope in ("jwt-rs256", "jwe-dir-a256gcm")]
    # the slower binding is labelled as such and is neither the floor nor a peer
    eddsa = next(t for t in verify_tables(complete) if t.title.startswith("jwt-eddsa"))
    slower = next(row for row in eddsa.rows if "slower binding" in row[0])
    assert slower[4] == f"{90.0 / 40.0:.2f}{X}"
    assert "Ed25519 (PyNaCl, libsodium)" in eddsa.note
    peers = next(c for c in target_checks(complete) if c.scope == "jwt-eddsa" and "peer" in c.target)
    assert "fastest peer (pyjwt)" in peers.measured
    assert "### The algorithm and the envelope" in render_report(complete, {})


def test_a_row_whose_iqr_exceeds_a_tenth_of_its_median_is_marked_unreliable(results: Results) -> None:
    noisy, steady = (
        _verify_row("jwt-eddsa", "tokenbench", 50.0, 5.1),
        _verify_row("jwt-eddsa", "floor", 40.0, 4.0),
    )
    assert unreliable(noisy)
    assert not unreliable(steady)
    complete = msgspec.structs.replace(results, token=(*results.token, noisy, steady))
    eddsa = next(t for t in verify_tables(complete) if t.title.startswith("jwt-eddsa"))
    assert [row[-1] for row in eddsa.rows] == ["4.0", "5.1 ⚠"]
    check = next(c for c in target_checks(complete) if c.scope == "jwt-eddsa" and "floor" in c.target)
    assert "IQR 5.1 ⚠" in check.measured
    assert check.verdict is Verdict.TIE  # 1.25x, but each median moved by half its IQR reaches 1.3x


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
