"""How the runner turns repeated passes and windows into one row each."""

from __future__ import annotations

from benchmarks.http_level import _combine, _Window
from benchmarks.loadgen import HttpRequest, LoadResult
from benchmarks.plan import PLANS
from benchmarks.results import TokenRow
from benchmarks.token_level import _median_row


def _token(median: float, rounds: int, minimum: float) -> TokenRow:
    return TokenRow(
        format="jwt-hs256",
        op="verify",
        impl="tokenbench",
        kind="access",
        case="ok",
        median_us=median,
        iqr_us=median / 10,
        mean_us=median,
        min_us=minimum,
        rounds=rounds,
    )


def _window(rps: float, p99: float, cpu: float, requests: int, statuses: dict[str, int]) -> _Window:
    result = LoadResult(
        tool="wrk",
        connections=8,
        duration_s=5.0,
        requests=requests,
        errors=sum(n for s, n in statuses.items() if not s.startswith("2")),
        rps=rps,
        p50_ms=p99 / 4,
        p99_ms=p99,
        statuses=statuses,
    )
    return _Window(result, cpu)


def test_token_row_is_the_median_pass_with_every_round_counted() -> None:
    passes = [_token(30.0, 100, 9.0), _token(11.0, 120, 10.0), _token(12.0, 110, 10.5)]
    row = _median_row(passes)
    assert row.median_us == 12.0  # a noisy pass (30 µs) does not move the row
    assert row.iqr_us == 1.2  # the statistics of the chosen pass stay together
    assert row.min_us == 9.0
    assert row.rounds == 330


def test_http_row_takes_medians_of_the_windows_and_sums_the_counts() -> None:
    windows = [
        _window(3000, 5.0, 300.0, 15000, {"200": 15000}),
        _window(1000, 40.0, 900.0, 5000, {"200": 4999, "401": 1}),
        _window(3200, 6.0, 310.0, 16000, {"200": 16000}),
    ]
    row = _combine(windows, app="service", fmt="jwt-hs256", route="me", request=HttpRequest("GET", "/me"))
    assert (row.rps, row.p99_ms, row.cpu_us) == (3000, 6.0, 310.0)
    assert row.windows == 3
    assert row.requests == 36000
    assert row.errors == 1
    assert row.statuses == {"200": 35999, "401": 1}
    assert row.request == "GET /me"


def test_full_plan_repeats_what_quick_and_smoke_run_once() -> None:
    full, quick, smoke = PLANS["full"], PLANS["quick"], PLANS["smoke"]
    assert full.repeats >= 3
    assert full.token_passes >= 3
    assert quick.repeats == smoke.repeats == 1
    assert full.window_s > quick.window_s > smoke.window_s
    assert full.login_clients == quick.login_clients == smoke.login_clients == 8
