"""The benchmark report: pure functions from :class:`benchmarks.results.Results` to Markdown.

Nothing here measures, reads the clock or touches the disk; :mod:`benchmarks.charts` draws the PNGs and
:mod:`benchmarks.run` writes the files. The tests render a small recorded run and check every section.

Ratios: "x fastest" is a row's median over the smallest median of its table; "x floor" is over the floor
of the same format (the primitive with the least parsing, :mod:`benchmarks.floor`). At the HTTP level the
"auth overhead" of a route is its server CPU per request minus that of the open route of the same server.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from benchmarks.results import STORE_LOAD, HttpRow, RatioRow, Results, SizeRow, TokenRow
from formats import FormatName

__all__ = [
    "BUSY_LOAD_PER_CORE",
    "BUSY_OTHERS_PCT",
    "BUSY_STEAL_PCT",
    "FORMATS",
    "NOT_MEASURED",
    "ROUTES",
    "SIZES_CLAIMS",
    "UNRELIABLE_SPREAD",
    "Table",
    "TargetCheck",
    "Verdict",
    "algorithm_and_envelope_table",
    "auth_overhead_table",
    "busy_before",
    "busy_during",
    "cost_stack",
    "cost_stack_table",
    "envelope_table",
    "formats_in",
    "formats_not_measured",
    "http_route_tables",
    "login_load_table",
    "login_split_table",
    "machine_verdict",
    "me_throughput_table",
    "open_route_noise",
    "operation_tables",
    "ratio_spread",
    "reference_sizes_table",
    "reject_table",
    "render_report",
    "render_table",
    "request_target_checks",
    "row_spread",
    "sizes_table",
    "spread",
    "target_checks",
    "token_level_checks",
    "unreliable",
    "verdict",
    "verify_tables",
    "window_table",
    "windows_ratio_spread",
]

FORMATS: Final = tuple(name.value for name in FormatName)
"""Every format, in ``FormatName`` order: a new format appears in every table at once."""
NOT_MEASURED: Final = "not measured in this run"
"""What the header and the targets say of a format of ``FormatName`` that has no row in the run."""

ROUTES: Final = {
    "open": "the open route",
    "me": "GET /me",
    "refresh": "POST /auth/refresh",
    "login": "POST /auth/login",
}

BUSY_LOAD_PER_CORE: Final = 0.5
"""A 1-minute load average above this many runnable processes per core before the run: a busy machine."""
BUSY_STEAL_PCT: Final = 5.0
"""CPU steal above this share of the cores' time, before the run or during a window: a busy machine."""
BUSY_OTHERS_PCT: Final = 10.0
"""CPU of processes outside the benchmark above this share of all cores: a busy machine."""
UNRELIABLE_SPREAD: Final = 0.10
"""A request-level row whose windows spread (max - min) over more than this share of its median."""

VERIFY_FLOOR_TARGET: Final = 1.3
OVERHEAD_TARGET: Final = 1.25
JWTAUTH_RPS_TARGET: Final = 2.0
LOGIN_P99_TARGET: Final = 2.0
REFRESH_TAIL_TARGET: Final = 10.0
REFRESH_CPU_TARGET: Final = 2.0
JWTAUTH_FORMAT: Final = FormatName.JWT_HS256.value
"""Litestar's ``JWTAuth`` speaks HS256 JWTs only: the one format it is compared in."""
WINDOW_TARGET: Final = 1.05
"""The issued format's verify with accepted formats configured, over its verify without (issue 9)."""
REJECT_TARGET: Final = 1.1
"""A rejected token (bad signature, wrong kind) over a valid verify of the same format (issue 12)."""
REJECT_CASES: Final = ("bad-signature", "wrong-kind")
RELIABLE_IQR: Final = 0.10
"""A token-level row whose IQR exceeds this share of its median is marked :data:`UNRELIABLE`."""
UNRELIABLE: Final = "⚠"

CONTROLS: Final = {"jwt-rs256": "pyjwt", "jwe-dir-a256gcm": "joserfc"}
"""Control rows at the token level (not service formats), with the library that verifies each."""
SLOWER_BINDING: Final = "floor-cryptography"
"""The impl of a row that runs the floor's steps through a slower binding of the same primitive."""
ENVELOPE_PAIR: Final = ("jwt-eddsa", "paseto-v4-public")
"""The same primitive (Ed25519 through libsodium) in two envelopes."""
PRIMITIVES: Final = {
    "jwt-hs256": "HMAC-SHA256 (hmac, OpenSSL)",
    "jwt-es256": "ECDSA P-256 (cryptography, OpenSSL)",
    "jwt-eddsa": "Ed25519 (PyNaCl, libsodium)",
    "paseto-v4-local": "XChaCha20 + BLAKE2b (pycryptodomex, hashlib)",
    "paseto-v4-public": "Ed25519 (PyNaCl, libsodium)",
    "jwt-rs256": "RSA-2048 PKCS#1 v1.5 (cryptography, OpenSSL)",
    "jwe-dir-a256gcm": "AES-256-GCM (cryptography, OpenSSL)",
}
"""Each floor's primitive and the binding it runs through (``benchmarks.floor``)."""

OPERATIONS: Final = (
    ("verify", "access", "ok", "Verify an access token"),
    ("verify", "refresh", "ok", "Verify a refresh token"),
    ("issue", "access", "ok", "Issue an access token"),
    ("issue", "refresh", "ok", "Issue a refresh token"),
    ("reject", "access", "bad-signature", "Reject a token with a bad signature (one bit flipped)"),
    ("reject", "access", "wrong-kind", "Reject a refresh token presented as an access token"),
    ("reject", "access", "garbage", "Reject garbage of the same length"),
)

STACK_LAYERS: Final = ("primitive", "library", "service", "HTTP")
X: Final = "\u00d7"
"""The multiplication sign of the ratio columns."""


@dataclass(frozen=True, slots=True)
class Table:
    """A Markdown table: first column left-aligned, the others right-aligned."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""


class Verdict(StrEnum):
    """What a run says about a target."""

    HOLDS = "holds"
    MISSES = "misses"
    TIE = "tie"  # the measurement's spread covers the target: this run cannot tell


def verdict(
    measured: float, target: float, spread: tuple[float, float] | None = None, *, at_least: bool = False
) -> Verdict:
    """The one verdict rule of the report: ``measured`` against ``target``, a tie when noise covers it.

    ``measured`` must be at most ``target`` (at least, with ``at_least``). ``spread`` is the interval
    the measurement's noise spans, in the same unit (e.g. the quartiles of a ratio, or
    :func:`ratio_spread` of two medians): when it contains ``target`` the run cannot tell whether the
    target holds, and the verdict is :attr:`Verdict.TIE` whichever side the median fell on. Without a
    spread the verdict is a plain comparison.
    """
    if spread is not None and min(spread) <= target <= max(spread):
        return Verdict.TIE
    holds = measured >= target if at_least else measured <= target
    return Verdict.HOLDS if holds else Verdict.MISSES


def ratio_spread(top: float, top_iqr: float, bottom: float, bottom_iqr: float) -> tuple[float, float]:
    """The interval of ``top / bottom`` when each median moves by half its interquartile range.

    The widest the ratio gets with both medians inside their own rounds' middle half: the spread a
    :func:`verdict` on the ratio of two token-level rows uses.
    """
    low, high = top - top_iqr / 2, top + top_iqr / 2
    return low / (bottom + bottom_iqr / 2), high / max(bottom - bottom_iqr / 2, 1e-9)


@dataclass(frozen=True, slots=True)
class TargetCheck:
    """One target of the issues, checked against the run."""

    target: str
    scope: str
    measured: str
    verdict: Verdict | None  # None: not measured in this run


# --- formatting -----------------------------------------------------------------------------------------


def _us(value: float) -> str:
    return f"{value:,.1f}" if abs(value) < 100 else f"{value:,.0f}"


def _ms(value: float) -> str:
    return f"{value:,.2f}"


def _rate(value: float) -> str:
    return f"{value:,.0f}"


def _times(value: float, base: float) -> str:
    return f"{value / base:.2f}{X}" if base > 0 else "n/a"


def _numeric(cells: Iterable[str]) -> bool:
    return all(c == "n/a" or c[:1].isdigit() or c[:2].lstrip("-")[:1].isdigit() for c in cells)


def render_table(table: Table) -> str:
    """The table as GitHub-flavoured Markdown, with its title and note; numeric columns right-aligned."""
    lines = [f"#### {table.title}", ""] if table.title else []
    lines.append("| " + " | ".join(table.columns) + " |")
    align = [
        "---:" if i and _numeric(row[i] for row in table.rows) else ":---" for i in range(len(table.columns))
    ]
    lines.append("|" + "|".join(align) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in table.rows]
    if table.note:
        lines += ["", table.note]
    return "\n".join(lines)


# --- lookups --------------------------------------------------------------------------------------------


def formats_in(rows: Iterable[TokenRow | HttpRow | SizeRow]) -> list[str]:
    """The formats of ``rows`` in ``FormatName`` order, then any other (control rows) by name."""
    present = {r.format for r in rows}
    return [f for f in FORMATS if f in present] + sorted(present - set(FORMATS) - {""})


_formats_in = formats_in


def _token(
    results: Results, fmt: str, op: str, impl: str, kind: str = "access", case: str = "ok"
) -> TokenRow | None:
    for row in results.token:
        if (row.format, row.op, row.impl, row.kind, row.case) == (fmt, op, impl, kind, case):
            return row
    return None


def _floor(results: Results, fmt: str) -> float | None:
    row = _token(results, fmt, "verify", "floor")
    return row.median_us if row else None


def _http(results: Results, app: str, fmt: str, route: str, load: str = "") -> HttpRow | None:
    for row in results.http:
        if (row.app, row.format, row.route, row.load) == (app, fmt, route, load):
            return row
    return None


def _overhead(results: Results, app: str, fmt: str) -> float | None:
    """Server CPU µs per request of ``GET /me`` minus the open route of the same server."""
    me = _http(results, app, fmt, "me")
    open_ = _http(results, app, fmt, "open") or _http(results, app, "", "open")
    if me is None or open_ is None:
        return None
    return me.cpu_us - open_.cpu_us


# --- noise ----------------------------------------------------------------------------------------------


def busy_before(
    load: Sequence[float], cores: int, steal_pct: float | None, others_pct: float | None
) -> str | None:
    """Why the machine counts as busy before a run (load average, steal, other processes), or None."""
    reasons = []
    if load and load[0] > BUSY_LOAD_PER_CORE * max(cores, 1):
        reasons.append(
            f"1-minute load average {load[0]:.2f} on {cores} cores (over {BUSY_LOAD_PER_CORE:g} per core)"
        )
    if steal_pct is not None and steal_pct > BUSY_STEAL_PCT:
        reasons.append(f"CPU steal {steal_pct:.1f} % (over {BUSY_STEAL_PCT:g} %)")
    if others_pct is not None and others_pct > BUSY_OTHERS_PCT:
        reasons.append(f"other processes used {others_pct:.0f} % of the cores (over {BUSY_OTHERS_PCT:g} %)")
    return "; ".join(reasons) or None


def _noisy_rows(results: Results) -> tuple[list[HttpRow], list[HttpRow]]:
    """Request-level rows with a machine reading, and those among them measured on a busy machine."""
    read = [r for r in results.http if r.steal_pct is not None and r.others_pct is not None]
    busy = [r for r in read if (r.steal_pct or 0) > BUSY_STEAL_PCT or (r.others_pct or 0) > BUSY_OTHERS_PCT]
    return read, busy


def busy_during(results: Results) -> str | None:
    """Why the machine counts as busy during the request-level windows, or None."""
    read, busy = _noisy_rows(results)
    if not busy:
        return None
    steal = max(r.steal_pct or 0 for r in read)
    others = max(r.others_pct or 0 for r in read)
    reasons = [
        f"other processes used more than {BUSY_OTHERS_PCT:g} % of the cores (up to {others:.0f} %)"
        if others > BUSY_OTHERS_PCT
        else "",
        f"CPU steal exceeded {BUSY_STEAL_PCT:g} % (up to {steal:.1f} %)" if steal > BUSY_STEAL_PCT else "",
    ]
    return f"{len(busy)} of {len(read)} request-level rows ran while " + " and ".join(r for r in reasons if r)


def spread(values: Sequence[float]) -> float | None:
    """How far a row's windows disagree: (max - min) / median; None with fewer than two windows."""
    if len(values) < 2:
        return None
    middle = statistics.median(values)
    return (max(values) - min(values)) / middle if middle > 0 else None


def row_spread(row: HttpRow) -> float | None:
    """The larger of the spreads of a row's req/s and server CPU per request across its windows."""
    spreads = [s for s in (spread(row.rps_windows), spread(row.cpu_us_windows)) if s is not None]
    return max(spreads) if spreads else None


def unreliable(row: TokenRow | HttpRow) -> bool:
    """Whether a row moved too much to be read alone: the machine moved under it.

    A token-level row: its IQR exceeds :data:`RELIABLE_IQR` of its median. A request-level row: its windows
    spread over :data:`UNRELIABLE_SPREAD` of its median (:func:`row_spread`).
    """
    if isinstance(row, TokenRow):
        return row.iqr_us > RELIABLE_IQR * row.median_us
    measured = row_spread(row)
    return measured is not None and measured > UNRELIABLE_SPREAD


def _spread_cell(row: HttpRow) -> str:
    measured = row_spread(row)
    if measured is None:
        return "n/a (1 window)"
    return f"{measured:.0%} ⚠ unreliable" if measured > UNRELIABLE_SPREAD else f"{measured:.0%}"


def open_route_noise(results: Results) -> tuple[float, float, float] | None:
    """Server CPU µs of the service's open route across formats: (min, max, max - min over the median).

    The open route does no token work, so every format's server runs the same code for it: how far its
    figures differ between formats is this run's noise, not a format difference.
    """
    values = [r.cpu_us for r in results.http if r.app == "service" and r.route == "open" and not r.load]
    if len(values) < 2:
        return None
    return min(values), max(values), spread(values) or 0.0


# --- token level ----------------------------------------------------------------------------------------


def _iqr(row: TokenRow) -> str:
    return f"{_us(row.iqr_us)} {UNRELIABLE}" if unreliable(row) else _us(row.iqr_us)


def _stat(row: TokenRow) -> str:
    """A row's figure with its statistic: ``72.1 µs (median of 2,000 rounds, IQR 3.2)``."""
    mark = f" {UNRELIABLE}" if unreliable(row) else ""
    return f"{_us(row.median_us)} µs (median of {row.rounds:,} rounds, IQR {_us(row.iqr_us)}{mark})"


def _spread_of(top: TokenRow, bottom: TokenRow) -> tuple[float, float]:
    return ratio_spread(top.median_us, top.iqr_us, bottom.median_us, bottom.iqr_us)


def _interval(spread: tuple[float, float]) -> str:
    return f"{spread[0]:.2f}-{spread[1]:.2f}{X}"


def _impl_label(impl: str) -> str:
    if impl == "tokenbench":
        return "**tokenbench**"
    if impl == SLOWER_BINDING:
        return "same steps, Ed25519 via cryptography (OpenSSL): a slower binding, not the floor"
    return impl


def verify_tables(results: Results) -> list[Table]:
    """Per format: the floor, tokenbench and every peer verifying the same access token."""
    tables = []
    for fmt in _formats_in(results.token):
        if fmt in CONTROLS:
            continue
        rows = [r for r in results.token if r.format == fmt and r.op == "verify" and r.kind == "access"]
        if not rows:
            continue
        order = {"floor": 0, "tokenbench": 1, SLOWER_BINDING: 3}
        rows.sort(key=lambda r: (order.get(r.impl, 2), r.median_us))
        fastest = min(r.median_us for r in rows)
        floor = _floor(results, fmt)
        tables.append(
            Table(
                title=f"{fmt}: verify an access token",
                columns=(
                    "implementation",
                    "median µs",
                    "ops/s",
                    f"{X} fastest",
                    f"{X} floor",
                    "min µs",
                    "IQR µs",
                ),
                rows=tuple(
                    (
                        _impl_label(r.impl),
                        _us(r.median_us),
                        _rate(1e6 / r.median_us),
                        _times(r.median_us, fastest),
                        _times(r.median_us, floor) if floor else "n/a",
                        _us(r.min_us),
                        _iqr(r),
                    )
                    for r in rows
                ),
                note=f"floor: {PRIMITIVES[fmt]}, the binding tokenbench calls." if fmt in PRIMITIVES else "",
            )
        )
    return tables


def operation_tables(results: Results) -> list[Table]:
    """Per operation (issue, verify, reject; access and refresh): tokenbench in every format."""
    tables = []
    for op, kind, case, title in OPERATIONS:
        rows = [
            (fmt, row)
            for fmt in _formats_in(results.token)
            if (row := _token(results, fmt, op, "tokenbench", kind, case)) is not None
        ]
        if not rows:
            continue
        fastest = min(r.median_us for _, r in rows)
        tables.append(
            Table(
                title=title,
                columns=("format", "median µs", "IQR µs", "ops/s", f"{X} fastest", f"{X} floor"),
                rows=tuple(
                    (
                        fmt,
                        _us(r.median_us),
                        _iqr(r),
                        _rate(1e6 / r.median_us),
                        _times(r.median_us, fastest),
                        _times(r.median_us, floor) if (floor := _floor(results, fmt)) else "n/a",
                    )
                    for fmt, r in rows
                ),
                note=f"{X} floor: over the floor *verify* of the same format." if op != "verify" else "",
            )
        )
    return tables


def algorithm_and_envelope_table(results: Results) -> Table | None:
    """Every format and control: the floor (the algorithm) and the verifier (+ envelope and checks)."""
    rows = []
    for fmt in [*FORMATS, *CONTROLS]:
        verifier = CONTROLS.get(fmt, "tokenbench")
        floor, full = _token(results, fmt, "verify", "floor"), _token(results, fmt, "verify", verifier)
        if floor is None or full is None:
            continue
        rows.append(
            (
                f"{fmt} (control)" if fmt in CONTROLS else fmt,
                PRIMITIVES[fmt],
                _us(floor.median_us),
                verifier,
                _us(full.median_us),
                _us(full.median_us - floor.median_us),
                _times(full.median_us, floor.median_us),
            )
        )
    if not rows:
        return None
    return Table(
        title="What the algorithm costs and what the envelope costs: verify an access token",
        columns=(
            "format",
            "primitive (binding)",
            "floor µs = the algorithm",
            "verifier",
            "verifier µs",
            "envelope + checks µs",
            f"{X} floor",
        ),
        rows=tuple(rows),
        note=(
            "The floor runs the primitive through the binding the verifier calls, with the least parsing "
            "(split, base64, primitive, claims decoded as typed on the wire); the rest is what the "
            "envelope (header, footer, key id, kind binding) and the claim checks cost in that verifier. "
            "The controls are not service formats: RS256 with a 2048-bit key verified by pyjwt, and a JWE "
            "compact token (`dir` + `A256GCM`) decrypted and its claims checked by joserfc, JWT's answer "
            "to paseto-v4-local."
        ),
    )


def envelope_table(results: Results) -> Table | None:
    """Same primitive, two envelopes: jwt-eddsa against paseto-v4-public (Ed25519 through libsodium both)."""
    pairs = [
        (fmt, floor, ours)
        for fmt in ENVELOPE_PAIR
        if (floor := _token(results, fmt, "verify", "floor"))
        and (ours := _token(results, fmt, "verify", "tokenbench"))
    ]
    if len(pairs) != len(ENVELOPE_PAIR):
        return None
    base = pairs[0][2]
    return Table(
        title="Same primitive, two envelopes: Ed25519 (libsodium) in JWS and in PASETO v4",
        columns=(
            "format",
            "floor µs",
            "tokenbench µs",
            "envelope + checks µs",
            f"{X} floor",
            f"tokenbench {X} {ENVELOPE_PAIR[0]}",
            "spread of that ratio",
        ),
        rows=tuple(
            (
                fmt,
                _us(floor.median_us),
                _us(ours.median_us),
                _us(ours.median_us - floor.median_us),
                _times(ours.median_us, floor.median_us),
                _times(ours.median_us, base.median_us),
                "the base" if ours is base else _interval(_spread_of(ours, base)),
            )
            for fmt, floor, ours in pairs
        ),
        note=(
            "Both formats verify through the same function (one Ed25519 check through PyNaCl), so the "
            "difference between the rows is the envelope's: JWS compact (a header to parse, a signature "
            "segment) against PASETO v4 (PAE with footer and implicit assertion). A ratio whose spread "
            "covers 1.00 is a tie."
        ),
    )


def _ratio(results: Results, fmt: str, comparison: str, case: str = "") -> RatioRow | None:
    for row in results.ratios:
        if (row.format, row.comparison, row.case) == (fmt, comparison, case):
            return row
    return None


def _ratio_cell(row: RatioRow, target: float) -> str:
    judged = verdict(row.median, target, (row.q1, row.q3))
    return f"{row.median:.2f}{X} ({row.q1:.2f}-{row.q3:.2f}): {judged}"


def window_table(results: Results) -> Table | None:
    """Per format: verify of an issued-format access token without and with accepted formats (A/B)."""
    rows = [(fmt, row) for fmt in FORMATS if (row := _ratio(results, fmt, "window"))]
    if not rows:
        return None
    return Table(
        title="Migration window: verify an issued-format access token, interleaved A/B",
        columns=(
            "issued format",
            "no accepted format µs",
            "every other format accepted µs",
            f"with / without, median (quartiles): within {WINDOW_TARGET}{X}?",
            "turns",
        ),
        rows=tuple(
            (fmt, _us(r.a_us), _us(r.b_us), _ratio_cell(r, WINDOW_TARGET), str(r.pairs)) for fmt, r in rows
        ),
        note=(
            "A and B alternate; each turn times the fastest of 3 repeats of the same number of calls, and "
            "the cell is the median of the turns' ratios with its quartiles: a tie when the quartiles "
            f"cover {WINDOW_TARGET}{X}. The window dispatches by the token's own label (docs/migration.md)."
        ),
    )


def reject_table(results: Results) -> Table | None:
    """Per format: a valid verify against a rejected bad signature and wrong kind (A/B)."""
    rows = []
    for fmt in FORMATS:
        found = [_ratio(results, fmt, "reject", case) for case in REJECT_CASES]
        if any(r is None for r in found):
            continue
        bad, wrong = (r for r in found if r is not None)
        rows.append(
            (
                fmt,
                _us(bad.a_us),
                _us(bad.b_us),
                _ratio_cell(bad, REJECT_TARGET),
                _us(wrong.b_us),
                _ratio_cell(wrong, REJECT_TARGET),
            )
        )
    if not rows:
        return None
    return Table(
        title="Reject as cheap as accept: interleaved A/B against a valid verify",
        columns=(
            "format",
            "valid µs",
            "bad signature µs",
            f"bad / valid: within {REJECT_TARGET}{X}?",
            "wrong kind µs",
            f"wrong kind / valid: within {REJECT_TARGET}{X}?",
        ),
        rows=tuple(rows),
        note=(
            "Bad signature: one bit of the signature or tag flipped; wrong kind: a valid refresh token "
            "presented as an access token. Both refused by `verify(token, kind=access)` with their own "
            "code. Median of the interleaved turns' ratios (quartiles); a tie when the quartiles cover "
            f"{REJECT_TARGET}{X}."
        ),
    )


# --- request level --------------------------------------------------------------------------------------


def http_route_tables(results: Results) -> list[Table]:
    """Per route: the service in every format (no concurrent load), with each row's window spread."""
    noise = open_route_noise(results)
    tables = []
    for route, label in ROUTES.items():
        rows = [
            (fmt, row)
            for fmt in _formats_in(results.http)
            if (row := _http(results, "service", fmt, route)) is not None
        ]
        if not rows:
            continue
        best = min(r.cpu_us for _, r in rows)
        request = rows[0][1].request
        tables.append(
            Table(
                title=f"{request} ({label})" if route == "open" else request,
                columns=(
                    "format",
                    "req/s",
                    "p50 ms",
                    "p99 ms",
                    "server CPU µs/req",
                    f"{X} fastest (CPU)",
                    "window spread",
                    "errors",
                ),
                rows=tuple(
                    (
                        fmt,
                        _rate(r.rps),
                        _ms(r.p50_ms),
                        _ms(r.p99_ms),
                        _us(r.cpu_us),
                        _cpu_ratio(r.cpu_us, best, noise),
                        _spread_cell(r),
                        f"{r.errors} / {r.requests}",
                    )
                    for fmt, r in rows
                ),
                note=_route_note(route, noise),
            )
        )
    return tables


def _cpu_ratio(value: float, best: float, noise: tuple[float, float, float] | None) -> str:
    """``1.08x``, or ``1.08x (tie)`` when the difference is inside the open route's spread across formats."""
    ratio = _times(value, best)
    if noise is not None and best > 0 and value != best and (value - best) / best <= noise[2]:
        return f"{ratio} (tie)"
    return ratio


def _route_note(route: str, noise: tuple[float, float, float] | None) -> str:
    text = (
        f"{X} fastest: server CPU per request (median of the windows) over the cheapest format's. "
        f"Window spread: (max - min) / median of the row's windows, req/s or CPU whichever is wider; over "
        f"{UNRELIABLE_SPREAD:.0%} the row is marked unreliable."
    )
    if noise is None:
        return text
    low, high, width = noise
    if route == "open":
        return (
            f"{text} **The open route does no token work**: every format's server runs the same code for it, "
            f"so its spread across formats ({_us(low)} to {_us(high)} µs, {width:.0%} of the median) is this "
            "run's noise, not a format difference."
        )
    return (
        f"{text} (tie): the difference from the cheapest is within the open route's spread across formats "
        f"({width:.0%}), which is noise."
    )


def _store_rows(results: Results) -> dict[str, list[HttpRow]]:
    """Per-store refresh rows by store, fewest chains first."""
    stores: dict[str, list[HttpRow]] = {}
    for row in results.http:
        if row.route == "refresh" and row.load.startswith(STORE_LOAD):
            stores.setdefault(row.load.removeprefix(STORE_LOAD), []).append(row)
    return {store: sorted(rows, key=lambda r: r.connections) for store, rows in stores.items()}


def refresh_store_table(results: Results) -> Table | None:
    """POST /auth/refresh with 1, 8 and 32 concurrent chains on each store."""
    stores = _store_rows(results)
    if not stores:
        return None
    rows = [
        (
            store,
            str(r.connections),
            _rate(r.rps),
            _ms(r.p50_ms),
            _ms(r.p99_ms),
            _times(r.p99_ms, r.p50_ms),
            _us(r.cpu_us),
            _times(r.cpu_us, measured[0].cpu_us),
            f"{r.errors} / {r.requests}",
        )
        for store, measured in stores.items()
        for r in measured
    ]
    fmt = next(iter(stores.values()))[0].format
    return Table(
        title=f"POST /auth/refresh per store ({fmt})",
        columns=(
            "store",
            "chains",
            "req/s",
            "p50 ms",
            "p99 ms",
            "p99 / p50",
            "server CPU µs/req",
            "CPU / 1 chain",
            "errors",
        ),
        rows=tuple(rows),
        note="Each connection follows its own refresh chain (every request presents the cookie the previous "
        "answer set). Stores that were unreachable are missing; the run's progress log says so.",
    )


def auth_overhead_table(results: Results) -> Table:
    """Server CPU of authentication per request, against the token-level verify and the minimal guard."""
    rows = []
    for app in ("service", "minimal-guard", "jwtauth"):
        for fmt in _formats_in(results.http):
            overhead = _overhead(results, app, fmt)
            if overhead is None:
                continue
            me = _http(results, app, fmt, "me")
            open_ = _http(results, app, fmt, "open") or _http(results, app, "", "open")
            assert me is not None  # _overhead found both
            assert open_ is not None
            verify = _token(results, fmt, "verify", "tokenbench")
            guard = _overhead(results, "minimal-guard", fmt)
            rows.append(
                (
                    app,
                    fmt,
                    _us(open_.cpu_us),
                    _us(me.cpu_us),
                    _us(overhead) + (" ⚠ unreliable" if unreliable(me) or unreliable(open_) else ""),
                    _us(verify.median_us) if verify and app != "jwtauth" else "n/a",
                    _times(overhead, guard) if guard else "n/a",
                )
            )
    return Table(
        title="Auth overhead per request: GET /me minus the open route, server CPU",
        columns=(
            "app",
            "format",
            "open µs/req",
            "GET /me µs/req",
            "auth overhead µs",
            "verify µs (token level)",
            f"{X} minimal guard",
        ),
        rows=tuple(rows),
        note=(
            "minimal-guard: one hand-written `async def` Litestar guard calling the same `verify` "
            "(`benchmarks/apps.py`); jwtauth: the same route behind `litestar.security.jwt.JWTAuth` "
            "(pyjwt), jwt-hs256 only. The overhead includes what the route does with the claims "
            "(building the response), so it is larger than the verify alone."
        ),
    )


def me_throughput_table(results: Results) -> Table:
    """``GET /me`` requests per second: service, minimal guard and JWTAuth side by side."""
    jwtauth = _http(results, "jwtauth", JWTAUTH_FORMAT, "me")
    rows = []
    for app in ("service", "minimal-guard", "jwtauth"):
        for fmt in _formats_in(results.http):
            row = _http(results, app, fmt, "me")
            if row is not None:
                rows.append(
                    (
                        app,
                        fmt,
                        _rate(row.rps),
                        _ms(row.p50_ms),
                        _ms(row.p99_ms),
                        _times(row.rps, jwtauth.rps) if jwtauth else "n/a",
                    )
                )
    return Table(
        title="GET /me requests per second, side by side in one run",
        columns=("app", "format", "req/s", "p50 ms", "p99 ms", f"{X} JWTAuth req/s"),
        rows=tuple(rows),
    )


def _password_check(results: Results) -> TokenRow | None:
    return next((r for r in results.token if r.op == "password-verify"), None)


def login_split_table(results: Results) -> Table | None:
    """``POST /auth/login`` server CPU split into the argon2id check, the token work and the rest."""
    argon = _password_check(results)
    rows = []
    for fmt in _formats_in(results.http):
        login = _http(results, "service", fmt, "login")
        access = _token(results, fmt, "issue", "tokenbench", "access")
        refresh = _token(results, fmt, "issue", "tokenbench", "refresh")
        if login is None or argon is None or access is None or refresh is None:
            continue
        work = access.median_us + refresh.median_us
        rows.append((fmt, login, work, login.cpu_us - argon.median_us - work))
    if argon is None or not rows:
        return None
    logins = [login.cpu_us for _, login, _, _ in rows]
    works = [work for _, _, work, _ in rows]
    login_range, work_range = max(logins) - min(logins), max(works) - min(works)
    fewest = min(login.requests for _, login, _, _ in rows)
    within = login_range <= work_range + argon.iqr_us
    reading = (
        f"only the token work depends on the format (the argon2id check, the stores and the HTTP path are "
        f"the same code), and it differs by {_us(work_range)} µs across formats; login CPU differs by "
        f"{_us(login_range)} µs. The formats **tie** at login: the difference beyond the token work is "
        "noise, "
        + (
            f"within the argon2id check's own spread ({_us(argon.iqr_us)} µs IQR between rounds)"
            if within
            else f"larger than the argon2id check's own spread ({_us(argon.iqr_us)} µs IQR between rounds): "
            f"a row counted as few as {fewest} logins, on a machine whose noise the header states"
        )
    )
    return Table(
        title="POST /auth/login: where the server CPU goes (µs per login)",
        columns=(
            "format",
            "login CPU µs/req",
            "argon2id check µs",
            "token work µs",
            "rest µs",
            "window spread",
        ),
        rows=tuple(
            (
                fmt,
                _us(login.cpu_us),
                _us(argon.median_us),
                _us(token),
                _us(rest),
                _spread_cell(login),
            )
            for fmt, login, token, rest in rows
        ),
        note=(
            "login CPU = argon2id check + token work + rest. argon2id check: one password verification with "
            f"the service's default parameters alone, process CPU, median of {argon.rounds} rounds (IQR "
            f"{_us(argon.iqr_us)} µs); the same for every format. Token work: tokenbench issuing an access "
            "and a refresh token (token level). Rest: HTTP, JSON, the user and session stores, and noise. "
            f"Reading: {reading}."
        ),
    )


def _login_pair(results: Results) -> tuple[HttpRow, HttpRow] | None:
    for row in results.http:
        if row.route == "me" and row.load:
            base = _http(results, row.app, row.format, "me", "")
            if base is not None:
                return base, row
    return None


def login_load_table(results: Results) -> Table | None:
    """``GET /me`` latency alone and while clients log in continuously (argon2id hashing)."""
    pair = _login_pair(results)
    if pair is None:
        return None
    base, loaded = pair
    return Table(
        title=f"GET /me ({base.format}) while {loaded.load}",
        columns=("load", "req/s", "p50 ms", "p99 ms", f"p99 {X} alone"),
        rows=(
            ("GET /me alone", _rate(base.rps), _ms(base.p50_ms), _ms(base.p99_ms), f"1.00{X}"),
            (
                f"GET /me + {loaded.load}",
                _rate(loaded.rps),
                _ms(loaded.p50_ms),
                _ms(loaded.p99_ms),
                _times(loaded.p99_ms, base.p99_ms),
            ),
        ),
        note="Same connections and window both times; the login clients run in their own process.",
    )


def cost_stack(results: Results) -> dict[str, dict[str, float]]:
    """Per format, server CPU µs of one ``GET /me`` split into layers that add up to the whole.

    primitive = the floor verify; library = tokenbench verify minus the floor; service = the auth
    overhead at the HTTP level minus the verify (middleware, guard, claims into the response);
    HTTP = the open route (server, framework and HTTP for any request). Noise can make a layer
    negative; it is kept as measured.
    """
    stack = {}
    for fmt in _formats_in(results.http):
        floor = _floor(results, fmt)
        verify = _token(results, fmt, "verify", "tokenbench")
        overhead = _overhead(results, "service", fmt)
        open_ = _http(results, "service", fmt, "open")
        if floor is None or verify is None or overhead is None or open_ is None:
            continue
        stack[fmt] = {
            "primitive": floor,
            "library": verify.median_us - floor,
            "service": overhead - verify.median_us,
            "HTTP": open_.cpu_us,
        }
    return stack


def _layer(value: float) -> str:
    return f"{_us(value)} (negative: noise)" if value < 0 else _us(value)


def cost_stack_table(results: Results) -> Table:
    """:func:`cost_stack` as a table."""
    stack = cost_stack(results)
    return Table(
        title="Cost stack of one GET /me: primitive → library → service → HTTP (µs)",
        columns=("format", *STACK_LAYERS, "total = GET /me CPU µs/req"),
        rows=tuple(
            (fmt, *(_layer(layers[name]) for name in STACK_LAYERS), _us(sum(layers.values())))
            for fmt, layers in stack.items()
        ),
        note=(
            "primitive: the floor verify (token level); library: tokenbench verify minus the floor; "
            "service: auth overhead at the HTTP level minus the verify; HTTP: the open route's server CPU. "
            "The layers add up to the total, a negative one included: a layer is a difference of two "
            "medians measured apart, so when it is smaller than their noise it can come out below zero. "
            "It is kept as measured (marked *negative: noise*, drawn hatched and pointing back in the chart, "
            "whose bars end at the total), never dropped, so chart and table agree."
        ),
    )


# --- sizes ----------------------------------------------------------------------------------------------


def sizes_table(results: Results) -> Table:
    """Bytes of the tokens the service issued, and of the headers that carry them."""
    rows = [r for fmt in _formats_in(results.sizes) for r in results.sizes if r.format == fmt]
    smallest = min((r.access_bytes for r in rows), default=0)
    return Table(
        title="Token sizes (bytes)",
        columns=(
            "format",
            "access token",
            "refresh token",
            "Authorization header",
            "Cookie header",
            f"access {X} smallest",
        ),
        rows=tuple(
            (
                r.format,
                str(r.access_bytes),
                str(r.refresh_bytes),
                str(r.authorization_header_bytes),
                str(r.cookie_header_bytes),
                _times(r.access_bytes, smallest),
            )
            for r in rows
        ),
        note=(
            "The tokens this run's servers issued at `POST /auth/login` (the benchmark sets "
            "`TOKENBENCH_ISSUER` and `TOKENBENCH_AUDIENCE`), checked against `benchmarks/sizes.py` "
            "during the run. Headers counted as sent: `Authorization: Bearer <access>` and "
            "`Cookie: refresh_token=<refresh>`, each with its CRLF. " + SIZES_CLAIMS
        ),
    )


SIZES_CLAIMS: Final = (
    "Access token claims: sub, role, perms, iat, nbf, exp, jti, and iss and aud when configured; the refresh "
    "token carries the same sub, role, iat, nbf, iss and aud, a longer exp and its own jti, **drops perms** "
    "and adds fam and ver (`service/auth/sessions.py`). Every format writes whole seconds, so the sizes "
    "do not depend on the clock."
)


def reference_sizes_table(results: Results) -> Table | None:
    """The sizes the service issues with its default settings: what every other page of the docs states."""
    rows = [
        r for fmt in _formats_in(results.reference_sizes) for r in results.reference_sizes if r.format == fmt
    ]
    if not rows:
        return None
    measured = {r.format: r for r in results.sizes}
    return Table(
        title="Token sizes as `make run` issues them (default settings: no iss, no aud), bytes",
        columns=("format", "access token", "refresh token", "this run's access token minus this"),
        rows=tuple(
            (
                r.format,
                str(r.access_bytes),
                str(r.refresh_bytes),
                str(measured[r.format].access_bytes - r.access_bytes) if r.format in measured else "n/a",
            )
            for r in rows
        ),
        note=(
            "`benchmarks.sizes.token_sizes()` for the demo user `alice`, the one source of every token size "
            "in the docs (README, docs/formats.md, docs/migration.md, docs/tutorial.md; "
            "`tests/benchmarks/test_sizes.py` checks each page against it and a running service against it). "
            "The difference from this run's tokens is the issuer and audience the benchmark configures."
        ),
    )


# --- targets --------------------------------------------------------------------------------------------


def formats_not_measured(results: Results) -> list[str]:
    """Formats with no row at all in ``results`` (a run older than the format, or one that skipped it)."""
    present = {r.format for rows in (results.token, results.http, results.sizes) for r in rows}
    return [f for f in FORMATS if f not in present]


def _worst(verdicts: Iterable[Verdict]) -> Verdict:
    order = (Verdict.MISSES, Verdict.TIE, Verdict.HOLDS)
    return min(verdicts, key=order.index)


def token_level_checks(results: Results) -> list[TargetCheck]:
    """The token-level targets, each measured cell naming its statistic and the spread judged."""
    checks = []
    for fmt in FORMATS:
        verify = _token(results, fmt, "verify", "tokenbench")
        floor = _token(results, fmt, "verify", "floor")
        if verify and floor:
            ratio, spread = verify.median_us / floor.median_us, _spread_of(verify, floor)
            checks.append(
                TargetCheck(
                    f"verify within {VERIFY_FLOOR_TARGET}{X} of the floor",
                    fmt,
                    f"{ratio:.2f}{X} (spread {_interval(spread)}): {_stat(verify)} vs floor {_stat(floor)}",
                    verdict(ratio, VERIFY_FLOOR_TARGET, spread),
                )
            )
        peers = [
            r
            for r in results.token
            if r.format == fmt
            and r.op == "verify"
            and r.kind == "access"
            and r.impl not in ("floor", "tokenbench", SLOWER_BINDING)
        ]
        if verify and peers:
            best = min(peers, key=lambda r: r.median_us)
            ratio, spread = verify.median_us / best.median_us, _spread_of(verify, best)
            checks.append(
                TargetCheck(
                    "verify faster than every peer",
                    fmt,
                    f"tokenbench / fastest peer ({best.impl}) {ratio:.2f}{X} (spread {_interval(spread)}): "
                    f"{_stat(verify)} vs {_stat(best)}",
                    verdict(ratio, 1.0, spread),
                )
            )
    for fmt in FORMATS:
        found = [r for case in REJECT_CASES if (r := _ratio(results, fmt, "reject", case)) is not None]
        if len(found) == len(REJECT_CASES):
            checks.append(
                TargetCheck(
                    f"reject (bad signature, wrong kind) within {REJECT_TARGET}{X} of a valid verify",
                    fmt,
                    "; ".join(
                        f"{r.case.replace('-', ' ')} {r.median:.2f}{X} (quartiles {r.q1:.2f}-{r.q3:.2f})"
                        for r in found
                    )
                    + f"; median of {found[0].pairs} interleaved turns",
                    _worst(verdict(r.median, REJECT_TARGET, (r.q1, r.q3)) for r in found),
                )
            )
    for fmt in FORMATS:
        window = _ratio(results, fmt, "window")
        if window is not None:
            checks.append(
                TargetCheck(
                    f"issued-format verify with accepted formats within {WINDOW_TARGET}{X} of without",
                    fmt,
                    f"{window.median:.2f}{X} (quartiles {window.q1:.2f}-{window.q3:.2f}; median of "
                    f"{window.pairs} interleaved turns; {_us(window.b_us)} µs vs {_us(window.a_us)} µs)",
                    verdict(window.median, WINDOW_TARGET, (window.q1, window.q3)),
                )
            )
    return checks


def target_checks(results: Results) -> list[TargetCheck]:
    """Every target of the formats and benchmark issues, measured or marked as not measured."""
    checks = [TargetCheck("every target", fmt, NOT_MEASURED, None) for fmt in formats_not_measured(results)]
    checks += token_level_checks(results)
    return checks + request_target_checks(results)


def _windows_of(values: Sequence[float], median: float) -> tuple[float, ...]:
    return tuple(values) or (median,)


def windows_ratio_spread(top: Sequence[float], bottom: Sequence[float]) -> tuple[float, float] | None:
    """The interval of a ratio of two request-level rows over their windows: (min/max, max/min).

    None when either row has a single window: the run cannot say how far the ratio moves.
    """
    if len(top) < 2 or len(bottom) < 2 or min(bottom) <= 0:
        return None
    return min(top) / max(bottom), max(top) / min(bottom)


def _ratio_text(
    statistic: str,
    top: str,
    bottom: str,
    ratio: float,
    interval: tuple[float, float] | None,
    how: str = "windows",
) -> str:
    between = (
        f" ({how}: {_bound(interval[0])} to {_bound(interval[1])})"
        if interval
        else " (one window: no spread)"
    )
    return f"{statistic}: {top} vs {bottom} = {ratio:.2f}{X}{between}"


def _bound(value: float) -> str:
    """An end of a ratio's interval: never below 0, and unbounded once the denominator could reach zero."""
    return "unbounded" if value >= UNBOUNDED else f"{max(value, 0.0):.2f}{X}"


UNBOUNDED: Final = 1e6


BAND: Final = "one window; the open route's spread across formats"
"""How a single-window ratio's interval was made: this run's noise band (:func:`open_route_noise`)."""


def _band_of_difference(results: Results, top: float, bottom: float) -> tuple[float, float] | None:
    """The interval of ``top / bottom`` for two differences of CPU per request, each off by the noise band.

    The band is how far the open route's CPU differs between formats (max - min, µs): identical work,
    measured in this run's windows, so a difference of two rows is not known better than that.
    """
    noise = open_route_noise(results)
    if noise is None:
        return None
    width = noise[1] - noise[0]
    upper = (top + width) / (bottom - width) if bottom > width else UNBOUNDED
    return (top - width) / (bottom + width), upper


def _band_of_ratio(results: Results, ratio: float) -> tuple[float, float] | None:
    """The interval of a ratio of two rates, each off by the open route's relative spread across formats."""
    noise = open_route_noise(results)
    if noise is None:
        return None
    return ratio / (1 + noise[2]) ** 2, ratio * (1 + noise[2]) ** 2


def _overhead_windows(results: Results, app: str, fmt: str) -> tuple[float, ...]:
    """Auth overhead per window pair: GET /me minus the open route measured just before it."""
    me = _http(results, app, fmt, "me")
    open_ = _http(results, app, fmt, "open") or _http(results, app, "", "open")
    if me is None or open_ is None or len(me.cpu_us_windows) != len(open_.cpu_us_windows):
        return ()
    return tuple(m - o for m, o in zip(me.cpu_us_windows, open_.cpu_us_windows, strict=True))


def request_target_checks(results: Results) -> list[TargetCheck]:
    """The request-level targets, each stating its statistic and a tie when its windows' spread covers it.

    The spread of a ratio of two rows is the range over their windows (:func:`windows_ratio_spread`). A
    row measured in one window has none: the auth-overhead and req/s targets then take this run's noise
    band (the open route's spread across formats) as their spread; the others compare plainly and say so.
    """
    checks = []
    for fmt in FORMATS:
        service, guard = _overhead(results, "service", fmt), _overhead(results, "minimal-guard", fmt)
        if service is not None and guard is not None:
            interval = windows_ratio_spread(
                _overhead_windows(results, "service", fmt), _overhead_windows(results, "minimal-guard", fmt)
            )
            how = "windows"
            if interval is None:
                interval, how = _band_of_difference(results, service, guard), BAND
            ratio = service / guard if guard > 0 else float("inf")
            checks.append(
                TargetCheck(
                    f"GET /me auth overhead within {OVERHEAD_TARGET}{X} of a minimal guard",
                    fmt,
                    _ratio_text(
                        "server CPU/req, GET /me minus the open route, median of the windows",
                        f"{_us(service)} µs",
                        f"{_us(guard)} µs",
                        ratio,
                        interval,
                        how,
                    ),
                    verdict(ratio, OVERHEAD_TARGET, interval) if guard > 0 else Verdict.MISSES,
                )
            )
    ours, theirs = (
        _http(results, "service", JWTAUTH_FORMAT, "me"),
        _http(results, "jwtauth", JWTAUTH_FORMAT, "me"),
    )
    if ours and theirs:
        interval = windows_ratio_spread(
            _windows_of(ours.rps_windows, ours.rps), _windows_of(theirs.rps_windows, theirs.rps)
        )
        ratio = ours.rps / theirs.rps
        how = "windows"
        if interval is None:
            interval, how = _band_of_ratio(results, ratio), BAND
        measured = _ratio_text(
            f"req/s, median of {ours.windows} window(s)",
            _rate(ours.rps),
            _rate(theirs.rps),
            ratio,
            interval,
            how,
        )
        outcome: Verdict | None = verdict(ratio, JWTAUTH_RPS_TARGET, interval, at_least=True)
    else:
        measured, outcome = NOT_MEASURED, None
    checks.append(
        TargetCheck(
            f"GET /me at least {JWTAUTH_RPS_TARGET:g}{X} the req/s of Litestar JWTAuth",
            JWTAUTH_FORMAT,
            measured,
            outcome,
        )
    )
    pair = _login_pair(results)
    if pair:
        base, loaded = pair
        interval = windows_ratio_spread(
            _windows_of(loaded.p99_ms_windows, loaded.p99_ms), _windows_of(base.p99_ms_windows, base.p99_ms)
        )
        ratio = loaded.p99_ms / base.p99_ms
        measured = _ratio_text(
            f"p99 latency, median of {loaded.windows} window(s)",
            f"{_ms(loaded.p99_ms)} ms",
            f"{_ms(base.p99_ms)} ms",
            ratio,
            interval,
        )
        outcome = verdict(ratio, LOGIN_P99_TARGET, interval)
    else:
        measured, outcome = NOT_MEASURED, None
    checks.append(
        TargetCheck(
            f"GET /me p99 under login load within {LOGIN_P99_TARGET:g}{X} of p99 alone",
            pair[0].format if pair else "",
            measured,
            outcome,
        )
    )
    stores = _store_rows(results)
    for store, rows in stores.items():
        top, one = rows[-1], rows[0]
        loaded_row = max(rows[1:] or rows, key=lambda r: r.cpu_us)
        checks.append(
            TargetCheck(
                f"refresh p99 at {top.connections} chains within {REFRESH_TAIL_TARGET:g}{X} p50 ({store})",
                top.format,
                _ratio_text(
                    "p99 over p50 latency of one window",
                    f"{_ms(top.p99_ms)} ms",
                    f"{_ms(top.p50_ms)} ms",
                    top.p99_ms / top.p50_ms,
                    None,
                ),
                verdict(top.p99_ms / top.p50_ms, REFRESH_TAIL_TARGET),
            )
        )
        interval = windows_ratio_spread(
            _windows_of(loaded_row.cpu_us_windows, loaded_row.cpu_us),
            _windows_of(one.cpu_us_windows, one.cpu_us),
        )
        checks.append(
            TargetCheck(
                f"server CPU per refresh under load within {REFRESH_CPU_TARGET:g}{X} one chain's ({store})",
                top.format,
                _ratio_text(
                    f"server CPU/req, {loaded_row.connections} chains vs 1",
                    f"{_us(loaded_row.cpu_us)} µs",
                    f"{_us(one.cpu_us)} µs",
                    loaded_row.cpu_us / one.cpu_us,
                    interval,
                ),
                verdict(loaded_row.cpu_us / one.cpu_us, REFRESH_CPU_TARGET, interval),
            )
        )
    sqlite, both = stores.get("sqlite"), stores.get("postgresql+redis")
    if not stores:  # a report from before the per-store rows existed
        return checks
    checks.append(
        TargetCheck(
            "PostgreSQL + Redis refresh req/s at the most chains at least SQLite's",
            sqlite[-1].format if sqlite else "",
            _ratio_text(
                "req/s of one window at the most chains",
                _rate(both[-1].rps),
                _rate(sqlite[-1].rps),
                both[-1].rps / sqlite[-1].rps,
                None,
            )
            if sqlite and both
            else NOT_MEASURED,
            verdict(both[-1].rps / sqlite[-1].rps, 1.0, at_least=True) if sqlite and both else None,
        )
    )
    return checks


def targets_table(checks: Sequence[TargetCheck]) -> Table:
    """The target checks as a table."""
    mark = {
        Verdict.HOLDS: "✅ holds",
        Verdict.MISSES: "❌ misses",
        Verdict.TIE: "≈ tie (the spread covers the target)",
        None: "— not measured",
    }
    return Table(
        title="",
        columns=("target", "format", "measured", "result"),
        rows=tuple((c.target, c.scope, c.measured, mark[c.verdict]) for c in checks),
    )


# --- the document ---------------------------------------------------------------------------------------

HOW_TO_READ: Final = """\
* **Medians from one run** on one machine. Each token-level row is the median of many rounds
  (pytest-benchmark; a format's floor, tokenbench and peers run back to back); each request-level row
  is the median of its load windows (the method line says how many; the open route and `GET /me`
  windows alternate). Run it twice and single rows move by several percent, more on a busy machine:
  read ratios between rows of one table rather than absolute numbers. The verify tables also give each
  row's fastest round (min) and its interquartile range (IQR); a row whose IQR exceeds 10% of its
  median is marked ⚠ (unreliable: the machine moved under it, and every ratio built on it is the less
  reliable for it).
* **Verdicts state their statistic and say "tie" when the noise covers the margin.** One rule judges
  every target (`benchmarks.report.verdict`): a target holds or misses only when the measurement's
  spread lies wholly on one side of it, otherwise it is a tie. For a ratio of two token-level rows the
  spread is the ratio with each median moved by half its IQR; for the migration window and the
  rejections, which are small differences, the ratio comes from an **interleaved A/B** run (A and B
  alternate; each turn is the fastest of 3 repeats of the same number of calls; the median of the
  turns' ratios with its quartiles as the spread), because two sequential rows see different moments of
  a shared machine.
* **A shared, noisy machine**: the load generator, the server and anything else running share the cores
  listed above. The header reads the machine before the run and around every load window: the load
  average, CPU steal (cores the hypervisor gave to another guest) and the CPU of every process outside
  the benchmark (`/proc/stat` minus the benchmark's own process tree), and says in words whether the
  machine was busy. The load average during and after the run includes the run itself (server plus load
  generator keep about two cores busy). On two cores the load generator takes one, so requests/s are a
  floor for the server, not its ceiling.
* **Window spread and ties at the request level**: each row's windows are kept; a row whose windows
  spread over 10 % of its median is marked unreliable. The open route does no token work, so how far it
  differs between formats is noise; a format's difference inside that band is marked a tie. Targets give
  the statistic they compare and the ratio's range over the windows, and read "tie" when that range
  covers the target.
* **Server CPU µs per request** is the user + system CPU of the whole server process tree (read from
  `/proc` before and after the window) divided by the requests served: it does not depend on how fast
  the load generator is, and it includes the HTTP server's own threads.
* **Auth overhead** = CPU per `GET /me` minus CPU per request of the open route on the same server. It is
  set against the token-level verify: the difference is what the framework and the middleware cost on
  top of the cryptography and parsing.
* **Ratios of requests/s carry the fixed cost of every request.** With an open route costing `C` µs of
  server CPU and two auth layers costing `a` and `b` µs on top, the req/s ratio is `(C + b) / (C + a)`,
  not `b / a`: the slower the machine's HTTP path, the closer every auth layer's req/s gets to the
  others'. The auth-overhead table compares the layers themselves.
* **The floor** is each format's primitive through **the binding tokenbench itself calls** (named under
  each verify table), with the least parsing that still reads the claims: split, base64, MAC, signature
  or decryption, and one JSON decode of the claims as typed on the wire (no conversion, no check). Every
  step is one tokenbench's verify takes too, so tokenbench / floor is at least 1 by construction and
  measures what the envelope and the checks cost; a ratio below 1 can only be noise. The same primitive
  through a slower binding (Ed25519 through cryptography, which pyjwt, joserfc and pyseto use) is a row
  of its own, never the floor.
* **Control rows** (token level only, not service formats): RS256 with a 2048-bit RSA key (pyjwt) and
  a JWE compact token, `dir` + `A256GCM` (joserfc), each beside its floor, so the algorithm's cost and
  the envelope's can be read apart; jwt-eddsa against paseto-v4-public is the same primitive in two
  envelopes.
* **python-paseto** has no implicit assertions in its API, so it verifies a token it issued itself with
  the same claims and footer; every other peer verifies the very token tokenbench issued, with the key
  parsed once and the algorithm pinned.
"""


def _load(values: Sequence[float]) -> str:
    return "/".join(f"{x:.2f}" for x in values)


def machine_verdict(results: Results) -> list[str]:
    """The header's plain statement: was the machine busy before or during the run, and did it settle."""
    meta = results.meta
    before = busy_before(meta.load_before, meta.cores, meta.steal_before_pct, meta.others_before_pct)
    during = busy_during(results)
    read, _ = _noisy_rows(results)
    definition = (
        f"busy means a 1-minute load average over {BUSY_LOAD_PER_CORE:g} per core before the run, "
        f"or CPU steal over {BUSY_STEAL_PCT:g} %, or other processes using over {BUSY_OTHERS_PCT:g} % "
        "of the cores, before the run or during a load window"
    )
    settle = ""
    if meta.settled is not None:
        outcome = "settled" if meta.settled else "did not settle"
        settle = (
            f" The run waited {meta.settle_waited_s:.0f} s (`--settle {meta.settle_s:g}`) and the machine "
            f"{outcome}."
        )
    if before or during:
        reasons = "; ".join(
            part
            for part in (
                f"before the run: {before}" if before else "",
                f"during it: {during}" if during else "",
            )
            if part
        )
        return [
            f"**The machine was busy** ({reasons}).{settle} Request-level figures carry that noise: read "
            "the window spread and the ties, not single rows; token-level medians are less affected (many "
            f"rounds, back to back). ({definition}.)"
        ]
    unread = "" if read else " Steal and other processes were not read during the windows of this run."
    return [f"**The machine was quiet** by this report's definition ({definition}).{settle}{unread}"]


def _noise_lines(results: Results) -> list[str]:
    meta = results.meta
    before = f"load average (1/5/15 min) {_load(meta.load_before)}"
    if meta.steal_before_pct is not None and meta.others_before_pct is not None:
        before += (
            f"; over a short sample, CPU steal {meta.steal_before_pct:.1f} %, other processes "
            f"{meta.others_before_pct:.0f} % of the cores"
        )
    lines = [f"* **before the run**: {before}"]
    read, busy = _noisy_rows(results)
    if read:
        steal = [r.steal_pct or 0 for r in read]
        others = [r.others_pct or 0 for r in read]
        loads = [r.load1_max for r in read if r.load1_max is not None]
        lines.append(
            f"* **during the request-level windows** ({len(read)} rows, read around each window): CPU steal "
            f"median {statistics.median(steal):.1f} %, up to {max(steal):.1f} %; other processes median "
            f"{statistics.median(others):.0f} %, up to {max(others):.0f} % of the cores; "
            f"1-minute load average up to {max(loads, default=0):.2f} (the run itself keeps about two "
            "processes busy); "
            f"{len(busy)} row(s) on a busy machine"
        )
    lines.append(f"* **after the run**: load average {_load(meta.load_after)}")
    return lines


def _header(results: Results) -> list[str]:
    meta = results.meta
    libs = ", ".join(f"{name} {version}" for name, version in sorted(meta.libraries.items()))
    lines = ["# tokenbench benchmark report", ""]
    lines.append(
        "> Generated by `tokenbench bench` — do not edit by hand; rerun the command below to refresh it."
    )
    if meta.mode != "full":
        lines += [
            ">",
            f"> **{meta.mode.upper()} RUN**: short load windows and few rounds, to check that everything "
            "works (CI). The numbers are indicative only; `tokenbench bench` (no `--quick`) makes the "
            "real report.",
        ]
    lines += [">", *(f"> {line}" for line in machine_verdict(results))]
    lines += [
        "",
        f"* **command**: `{meta.command}`",
        f"* **machine**: {meta.cpu_model}, {meta.cores} cores, {meta.platform}",
        *_noise_lines(results),
        f"* **Python** {meta.python}; {libs}",
        f"* **commit** `{meta.commit}`; started {meta.started}, took {meta.elapsed_s:.0f} s",
        f"* **token level**: {meta.token_method}",
        *([f"* **interleaved A/B** (window, rejections): {meta.ratio_method}"] if meta.ratio_method else []),
        f"* **request level**: {meta.http_method}",
    ]
    missing = formats_not_measured(results)
    if missing:
        names = ", ".join(f"`{f}`" for f in missing)
        lines.append(
            f"* **{NOT_MEASURED}**: {names} (the run predates the format or skipped it); the tables below "
            "have no rows for it, and no figure on this page speaks for it"
        )
    return lines


def _section(tables: Iterable[Table]) -> list[str]:
    out = []
    for table in tables:
        out += [render_table(table), ""]
    return out


def _image(charts: Mapping[str, str], name: str, alt: str) -> list[str]:
    return [f"![{alt}]({charts[name]})", ""] if name in charts else []


def render_report(results: Results, charts: Mapping[str, str]) -> str:
    """The whole Markdown report; ``charts`` maps chart names to paths relative to the report."""
    lines = _header(results)
    lines += ["", "## Targets", "", *_section([targets_table(target_checks(results))])]
    lines += ["## How to read this", "", HOW_TO_READ]
    lines += ["## 1. Token level", ""]
    lines += _image(charts, "verify-formats", "verify an access token: every format on one axis")
    lines += _image(charts, "verify", "verify an access token: floor, tokenbench and peers per format")
    lines += ["### Verify: floor, tokenbench and peers, per format", ""]
    lines += _section(verify_tables(results))
    lines += ["### The algorithm and the envelope", ""]
    lines += _section(t for t in (algorithm_and_envelope_table(results), envelope_table(results)) if t)
    lines += ["### tokenbench operations, every format", ""]
    lines += _section(operation_tables(results))
    rejects = reject_table(results)
    if rejects is not None:
        lines += ["### Rejections against a valid verify", "", *_section([rejects])]
    window = window_table(results)
    if window is not None:
        lines += ["### Migration window", "", *_section([window])]
    lines += ["## 2. Request level", ""]
    lines += _image(charts, "http", "requests per second per route and format")
    lines += ["### Routes of the service, per format", ""]
    lines += _section(http_route_tables(results))
    lines += ["### Auth overhead against the token-level verify and a minimal guard", ""]
    lines += _section([auth_overhead_table(results), me_throughput_table(results)])
    lines += ["### Cost stack", ""]
    lines += _image(charts, "cost-stack", "cost stack of GET /me from primitive to HTTP")
    lines += _section([cost_stack_table(results)])
    stores = refresh_store_table(results)
    if stores:  # absent from reports made before the per-store rows existed
        lines += ["### Refresh under load, per store", "", *_section([stores])]
    split = login_split_table(results)
    if split is not None:
        lines += ["### Login: argon2id, token work and the rest", "", *_section([split])]
    lines += ["### Login load", ""]
    login = login_load_table(results)
    lines += _section([login]) if login else ["Not measured in this run.", ""]
    lines += ["## 3. Sizes", ""]
    lines += _image(charts, "sizes", "token and header bytes per format")
    lines += _section([sizes_table(results)])
    reference = reference_sizes_table(results)
    if reference is not None:
        lines += _section([reference])
    return "\n".join(lines).rstrip() + "\n"
