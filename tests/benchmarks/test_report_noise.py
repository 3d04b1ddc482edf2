"""The report is honest about noise: the machine, each row's windows, the open route, login, the cost stack.

Fixtures are the recorded smoke run (``recorded_run.json``) with the figures a test needs put in place;
nothing here measures time.
"""

from __future__ import annotations

import io
import os
import re
import resource
import subprocess
import sys
from collections.abc import Callable

import msgspec
import pytest
from matplotlib.patches import Rectangle

from benchmarks import noise
from benchmarks.charts import cost_stack_figure, http_figure, verify_figure, verify_formats_figure
from benchmarks.plan import Progress
from benchmarks.procstat import CpuTimes, cpu_times, machine_share, tree_cpu_seconds
from benchmarks.report import (
    FORMATS,
    STACK_LAYERS,
    Verdict,
    X,
    busy_before,
    cost_stack,
    cost_stack_table,
    http_route_tables,
    login_split_table,
    machine_verdict,
    render_report,
    render_table,
    request_target_checks,
    spread,
    target_checks,
)
from benchmarks.results import HttpRow, Meta, Results, TokenRow, read_results

from .test_report import RECORDED

Change = Callable[[HttpRow], HttpRow | None]


@pytest.fixture(scope="module")
def recorded() -> Results:
    return read_results(RECORDED)


def _quiet_meta(meta: Meta) -> Meta:
    return msgspec.structs.replace(
        meta, load_before=(0.3, 0.3, 0.3), cores=2, steal_before_pct=0.4, others_before_pct=3.0
    )


def _with_http(results: Results, change: Change) -> Results:
    rows = []
    for row in results.http:
        changed = change(row)
        rows.append(row if changed is None else changed)
    return msgspec.structs.replace(results, http=tuple(rows))


def _quiet_windows(row: HttpRow) -> HttpRow:
    """Three windows within 2 % of each other, on a machine nobody else used."""
    return msgspec.structs.replace(
        row,
        windows=3,
        rps_windows=(row.rps * 0.99, row.rps, row.rps * 1.01),
        cpu_us_windows=(row.cpu_us * 0.99, row.cpu_us, row.cpu_us * 1.01),
        p99_ms_windows=(row.p99_ms * 0.99, row.p99_ms, row.p99_ms * 1.01),
        load1_max=1.9,
        steal_pct=0.2,
        others_pct=2.0,
    )


@pytest.fixture
def quiet(recorded: Results) -> Results:
    """The recorded run as if measured on a quiet machine with three steady windows per row."""
    return _with_http(msgspec.structs.replace(recorded, meta=_quiet_meta(recorded.meta)), _quiet_windows)


# --- the machine --------------------------------------------------------------------------------------


def test_proc_stat_cpu_line_is_read_as_busy_idle_and_steal() -> None:
    times = cpu_times("cpu  100 5 50 1000 20 3 2 40 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n")
    assert times == CpuTimes(busy=100 + 5 + 50 + 3 + 2, idle=1000 + 20, steal=40)
    live = cpu_times()
    assert live.total > 0


def test_other_processes_cpu_is_the_machines_busy_time_minus_the_measured_tree() -> None:
    before = CpuTimes(busy=1000, idle=1000, steal=0)
    after = CpuTimes(busy=1150, idle=1040, steal=10)  # 200 ticks elapsed: 150 busy, 40 idle, 10 stolen
    ticks = cpu_times.__globals__["_TICKS"]
    share = machine_share(before, after, own_cpu_s=100 / ticks)
    assert share.steal_pct == pytest.approx(5.0)
    assert share.others_pct == pytest.approx(25.0)  # 50 of the 200 ticks were someone else's


def test_a_load_generator_that_exited_counts_as_the_benchmarks_own_cpu() -> None:
    """wrk runs as a subprocess and is gone when a window ends: its CPU must not count as someone else's."""
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    before = tree_cpu_seconds(os.getpid(), reaped=True)
    subprocess.run([sys.executable, "-c", "sum(range(3_000_000))"], check=True)
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    child = (after_children.ru_utime + after_children.ru_stime) - (
        before_children.ru_utime + before_children.ru_stime
    )
    assert child > 0
    assert tree_cpu_seconds(os.getpid(), reaped=True) - before >= child - 0.02  # ticks round down


def test_busy_before_names_each_reason_and_none_for_a_quiet_machine() -> None:
    assert busy_before((0.4, 0.2, 0.1), 2, 1.0, 4.0) is None
    reason = busy_before((1.6, 1.0, 0.5), 2, 7.0, 30.0)
    assert reason is not None
    assert "load average 1.60 on 2 cores" in reason
    assert "steal 7.0 %" in reason
    assert "other processes used 30 %" in reason


def test_header_says_plainly_the_machine_was_busy_before_the_run(quiet: Results) -> None:
    busy = msgspec.structs.replace(
        quiet, meta=msgspec.structs.replace(quiet.meta, load_before=(1.8, 1.5, 1.2))
    )
    text = render_report(busy, {})
    header = text.split("## Targets")[0]
    assert "**The machine was busy** (before the run: 1-minute load average 1.80 on 2 cores" in header
    assert (
        "* **before the run**: load average (1/5/15 min) 1.80/1.50/1.20; over a short sample, CPU steal 0.4 %"
        in header
    )
    assert "**The machine was quiet**" in render_report(quiet, {}).split("## Targets")[0]


def test_header_says_the_machine_was_busy_during_the_windows(quiet: Results) -> None:
    stolen = _with_http(
        quiet,
        lambda r: (
            msgspec.structs.replace(r, steal_pct=9.0)
            if (r.app, r.format, r.route) == ("service", "jwt-es256", "me")
            else None
        ),
    )
    (line,) = machine_verdict(stolen)
    assert line.startswith("**The machine was busy** (during it: 1 of")
    assert line.count("CPU steal exceeded 5 % (up to 9.0 %)") == 1
    assert "other processes used more" not in line
    header = render_report(stolen, {}).split("## Targets")[0]
    assert "CPU steal median 0.2 %, up to 9.0 %" in header
    assert "1 row(s) on a busy machine" in header


@pytest.mark.parametrize(("settled", "words"), [(True, "and the machine settled"), (False, "did not settle")])
def test_header_says_whether_the_machine_settled(quiet: Results, settled: bool, words: str) -> None:
    meta = msgspec.structs.replace(quiet.meta, settle_s=120.0, settled=settled, settle_waited_s=45.0)
    text = render_report(msgspec.structs.replace(quiet, meta=meta), {})
    assert f"The run waited 45 s (`--settle 120`) {words}" in text.replace(" and the machine did", " did")


def test_a_run_recorded_before_noise_was_read_says_so(recorded: Results) -> None:
    quiet_load = msgspec.structs.replace(
        recorded, meta=msgspec.structs.replace(recorded.meta, load_before=(0.1, 0.1, 0.1))
    )
    (line,) = machine_verdict(quiet_load)
    assert "Steal and other processes were not read during the windows of this run." in line


# --- rows and their windows ---------------------------------------------------------------------------


def test_spread_is_max_minus_min_over_the_median() -> None:
    assert spread([100.0, 110.0, 105.0]) == pytest.approx(10 / 105)
    assert spread([100.0]) is None


def test_a_row_whose_windows_spread_over_ten_percent_is_marked_unreliable(quiet: Results) -> None:
    def wobble(row: HttpRow) -> HttpRow | None:
        if (row.app, row.format, row.route) == ("service", "paseto-v4-local", "refresh"):
            return msgspec.structs.replace(
                row, cpu_us_windows=(row.cpu_us, row.cpu_us * 1.15, row.cpu_us * 0.97)
            )
        return None

    tables = {t.title: t for t in http_route_tables(_with_http(quiet, wobble))}
    refresh = render_table(tables["POST /auth/refresh"])
    (local,) = [line for line in refresh.splitlines() if line.startswith("| paseto-v4-local |")]
    assert "18% ⚠ unreliable" in local
    others = [line for line in refresh.splitlines() if line.startswith("| jwt-")]
    assert others
    assert all("2% |" in line and "unreliable" not in line for line in others)


def test_one_window_rows_say_their_spread_is_unknown(recorded: Results) -> None:
    text = render_table(http_route_tables(recorded)[1])
    assert "n/a (1 window)" in text


def _set_cpu(table: dict[tuple[str, str, str], float]) -> Change:
    def change(row: HttpRow) -> HttpRow | None:
        cpu = table.get((row.app, row.format, row.route))
        if cpu is None or row.load:
            return None
        return msgspec.structs.replace(row, cpu_us=cpu, cpu_us_windows=(cpu * 0.99, cpu, cpu * 1.01))

    return change


def test_open_route_spread_across_formats_is_stated_as_noise_and_small_differences_tie(
    quiet: Results,
) -> None:
    opens = {"jwt-hs256": 183.0, "jwt-es256": 215.0, "paseto-v4-local": 190.0, "paseto-v4-public": 200.0}
    mes = {"jwt-hs256": 300.0, "jwt-es256": 390.0, "paseto-v4-local": 320.0, "paseto-v4-public": 360.0}
    change = _set_cpu(
        {("service", f, "open"): v for f, v in opens.items()}
        | {("service", f, "me"): v for f, v in mes.items()}
    )
    tables = http_route_tables(_with_http(quiet, change))
    open_table, me_table = render_table(tables[0]), render_table(tables[1])
    assert "**The open route does no token work**" in open_table
    assert "(183 to 215 µs, 16% of the median) is this run's noise, not a format difference" in open_table
    rows = {line.split(" | ")[0][2:]: line for line in me_table.splitlines() if line.startswith("| ")}
    assert f"1.07{X} (tie)" in rows["paseto-v4-local"]  # 320 / 300: inside the 16 % band
    assert f"1.30{X}" in rows["jwt-es256"]
    assert "(tie)" not in rows["jwt-es256"]


# --- login ----------------------------------------------------------------------------------------------


def _argon(median: float, iqr: float) -> TokenRow:
    return TokenRow(
        format="",
        op="password-verify",
        impl="argon2id",
        kind="",
        case="ok",
        median_us=median,
        iqr_us=iqr,
        mean_us=median,
        min_us=median - iqr,
        rounds=9,
    )


def _login_results(quiet: Results, logins: dict[str, float], argon: TokenRow) -> Results:
    with_logins = _with_http(quiet, _set_cpu({("service", f, "login"): v for f, v in logins.items()}))
    return msgspec.structs.replace(with_logins, token=(*with_logins.token, argon))


def test_login_cpu_is_argon2_plus_token_work_plus_the_rest(quiet: Results) -> None:
    logins = {
        "jwt-hs256": 60_000.0,
        "jwt-es256": 79_200.0,
        "paseto-v4-local": 62_000.0,
        "paseto-v4-public": 70_000.0,
    }
    table = login_split_table(_login_results(quiet, logins, _argon(50_000.0, 25_000.0)))
    assert table is not None
    for row in table.rows:
        login, argon, work, rest = (float(c.replace(",", "")) for c in row[1:5])
        assert login == pytest.approx(argon + work + rest, abs=2)
        assert argon == 50_000
    # 1.32x between formats, but argon2 alone spreads 25 ms between rounds: a tie, said as such
    assert "The formats **tie** at login" in table.note
    assert "within the argon2id check's own spread (25,000 µs IQR between rounds)" in table.note


def test_login_differences_beyond_argon2_noise_are_still_bounded_by_the_token_work(quiet: Results) -> None:
    logins = {
        "jwt-hs256": 60_000.0,
        "jwt-es256": 79_200.0,
        "paseto-v4-local": 62_000.0,
        "paseto-v4-public": 70_000.0,
    }
    table = login_split_table(_login_results(quiet, logins, _argon(50_000.0, 500.0)))
    assert table is not None
    assert "only the token work depends on the format" in table.note
    assert "larger than the argon2id check's own spread (500 µs IQR between rounds)" in table.note


# --- verdicts -----------------------------------------------------------------------------------------


def _rps(app: str, windows: tuple[float, float, float]) -> Change:
    def change(row: HttpRow) -> HttpRow | None:
        if (row.app, row.format, row.route, row.load) != (app, "jwt-hs256", "me", ""):
            return None
        return msgspec.structs.replace(row, rps=windows[1], rps_windows=windows)

    return change


def test_request_targets_state_their_statistic_and_tie_when_the_windows_cover_the_target(
    quiet: Results,
) -> None:
    results = _with_http(
        _with_http(quiet, _rps("service", (3_900.0, 4_100.0, 4_300.0))),
        _rps("jwtauth", (1_950.0, 2_000.0, 2_050.0)),
    )
    (check,) = [c for c in request_target_checks(results) if "JWTAuth" in c.target]
    assert check.measured.startswith(f"req/s, median of 3 window(s): 4,100 vs 2,000 = 2.05{X}")
    assert f"(windows: 1.90{X} to 2.21{X})" in check.measured
    assert check.verdict is Verdict.TIE
    clear = _with_http(results, _rps("service", (4_500.0, 4_600.0, 4_700.0)))
    (check,) = [c for c in request_target_checks(clear) if "JWTAuth" in c.target]
    assert check.verdict is Verdict.HOLDS
    assert "≈ tie" in render_report(results, {}).split("## How to read")[0]


def test_every_request_target_names_its_statistic(quiet: Results) -> None:
    for check in request_target_checks(quiet):
        if check.verdict is not None:
            assert re.match(r"^(server CPU/req|req/s|p99|p99 over p50)", check.measured), check


def test_a_format_missing_from_the_run_is_derived_from_formatname(quiet: Results) -> None:
    checks = target_checks(quiet)
    missing = [c.scope for c in checks if c.verdict is None and c.target == "every target"]
    present = {r.format for r in quiet.token}
    assert missing == [f for f in FORMATS if f not in present] == ["jwt-eddsa"]


# --- the cost stack -----------------------------------------------------------------------------------


def test_cost_stack_chart_and_table_add_up_with_a_negative_layer(quiet: Results) -> None:
    # service overhead below the token-level verify: the "service" layer comes out negative
    me_low = _set_cpu({("service", "jwt-es256", "me"): quiet_open(quiet, "jwt-es256") + 50.0})
    results = _with_http(quiet, me_low)
    stack = cost_stack(results)
    assert stack["jwt-es256"]["service"] < 0
    table = cost_stack_table(results)
    (row,) = [r for r in table.rows if r[0] == "jwt-es256"]
    assert "(negative: noise)" in row[1 + STACK_LAYERS.index("service")]
    fig = cost_stack_figure(results)
    assert fig is not None
    ax = fig.axes[0]
    formats = list(stack)
    for i, fmt in enumerate(formats):
        total = sum(stack[fmt].values())
        ticks = [line for line in ax.get_lines() if line.get_ydata()[0] == pytest.approx(i - 0.45)]
        assert ticks[0].get_xdata()[0] == pytest.approx(total)
        bars = [
            p
            for p in ax.patches
            if isinstance(p, Rectangle) and abs(p.get_y() + p.get_height() / 2 - i) < 0.01
        ]
        assert len(bars) == len(STACK_LAYERS)  # every layer drawn, none dropped
    hatched = [p for p in ax.patches if p.get_hatch()]
    assert len(hatched) == 1


def quiet_open(results: Results, fmt: str) -> float:
    (row,) = [r for r in results.http if (r.app, r.format, r.route) == ("service", fmt, "open")]
    return row.cpu_us


# --- charts ---------------------------------------------------------------------------------------------


def test_verify_chart_panels_share_one_linear_axis(recorded: Results) -> None:
    fig = verify_figure(recorded)
    assert fig is not None
    first, *rest = fig.axes
    assert rest
    assert all(first.get_shared_x_axes().joined(first, ax) for ax in rest)
    assert {ax.get_xscale() for ax in fig.axes} == {"linear"}


def test_cross_format_verify_chart_has_every_format_and_control_rows(recorded: Results) -> None:
    es256 = [
        r
        for r in recorded.token
        if (r.format, r.op, r.kind, r.case) == ("jwt-es256", "verify", "access", "ok")
    ]
    floor = next(r for r in es256 if r.impl == "floor")
    library = next(r for r in es256 if r.impl == "pyjwt")
    controls = (
        msgspec.structs.replace(floor, format="jwt-rs256"),
        msgspec.structs.replace(library, format="jwt-rs256", median_us=123.0),
    )
    fig = verify_formats_figure(msgspec.structs.replace(recorded, token=(*recorded.token, *controls)))
    assert fig is not None
    (ax,) = fig.axes
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [*(f for f in FORMATS if f != "jwt-eddsa"), "jwt-rs256 (control: pyjwt)"]
    assert ax.get_xscale() == "linear"
    widths = sorted(round(p.get_width(), 1) for p in ax.patches if isinstance(p, Rectangle))
    assert 123.0 in widths  # the control's library bar beside its floor
    assert len(widths) == 2 * len(labels)


def test_request_level_chart_uses_linear_scales(recorded: Results) -> None:
    fig = http_figure(recorded)
    assert fig is not None
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 5  # four routes and GET /me per app
    assert {ax.get_yscale() for ax in visible} | {ax.get_xscale() for ax in visible} == {"linear"}


# --- --settle -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("settle", [0.0, 0.3])
def test_wait_for_quiet_reads_the_machine_and_says_whether_it_settled(
    settle: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(noise, "QUIET_SAMPLE_S", 0.05)
    monkeypatch.setattr(noise, "SETTLE_POLL_S", 0.05)
    stream = io.StringIO()
    quiet = noise.wait_for_quiet(settle, Progress(1, stream))
    assert 0 <= quiet.share.steal_pct <= 100
    assert 0 <= quiet.share.others_pct <= 100
    log = stream.getvalue()
    assert "the machine before the run" in log
    assert "other processes" in log
    if not settle:
        assert quiet.settled is None
        return
    assert "(waiting up to 0.3 s to settle)" in log
    busy = busy_before(os.getloadavg(), os.cpu_count() or 1, quiet.share.steal_pct, quiet.share.others_pct)
    assert quiet.settled is (busy is None) or quiet.settled is True  # the load may have dropped since
    assert quiet.waited_s < 1.0


def test_a_single_window_target_takes_the_open_route_band_as_its_spread(recorded: Results) -> None:
    """One window per row (a quick run): the run's noise band, not a bare comparison, decides a tie."""
    opens = {"jwt-hs256": 100.0, "jwt-es256": 130.0, "paseto-v4-local": 110.0, "paseto-v4-public": 120.0}
    banded = _with_http(recorded, _set_cpu({("service", f, "open"): v for f, v in opens.items()}))
    banded = _with_http(
        banded,
        lambda r: msgspec.structs.replace(r, cpu_us_windows=(), rps_windows=()) if r.windows == 1 else None,
    )
    close = _with_http(_with_http(banded, _rps("service", (2_100.0,) * 3)), _rps("jwtauth", (1_000.0,) * 3))
    close = _with_http(
        close, lambda r: msgspec.structs.replace(r, rps_windows=()) if r.route == "me" else None
    )
    (check,) = [c for c in request_target_checks(close) if "JWTAuth" in c.target]
    assert "2.10" in check.measured
    assert "(one window; the open route's spread across formats: " in check.measured
    assert check.verdict is Verdict.TIE  # 2.10x, but the 30 % band puts 2x inside
    far = _with_http(close, _rps("service", (5_000.0,) * 3))
    far = _with_http(far, lambda r: msgspec.structs.replace(r, rps_windows=()) if r.route == "me" else None)
    (check,) = [c for c in request_target_checks(far) if "JWTAuth" in c.target]
    assert check.verdict is Verdict.HOLDS
