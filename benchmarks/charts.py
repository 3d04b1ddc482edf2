"""PNG charts of a benchmark run (matplotlib, Agg backend: no display needed).

Each ``*_figure`` function draws one chart from :class:`benchmarks.results.Results` and returns the
figure; :func:`write_charts` saves every chart that has data and returns their paths by name.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Final

import matplotlib as mpl

mpl.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from benchmarks.report import CONTROLS, FORMATS, ROUTES, STACK_LAYERS, cost_stack, formats_in
from benchmarks.results import Results

__all__ = [
    "CHARTS",
    "cost_stack_figure",
    "http_figure",
    "sizes_figure",
    "verify_figure",
    "verify_formats_figure",
    "write_charts",
]

_HIGHLIGHT: Final = "#d1495b"
_FLOOR: Final = "#8d99ae"
_OTHER: Final = "#4a6fa5"
_PALETTE: Final = ("#2e86ab", "#f18f01", "#6a994e", "#a23b72", "#5f4b8b")


def _color(impl: str) -> str:
    return _HIGHLIGHT if impl == "tokenbench" else _FLOOR if impl == "floor" else _OTHER


def verify_figure(results: Results) -> Figure | None:
    """One panel per format, all on one shared linear axis: floor, tokenbench and peers verifying."""
    rows = [r for r in results.token if r.op == "verify" and r.kind == "access"]
    formats = formats_in(rows)
    if not formats:
        return None
    fig, axes = plt.subplots(
        len(formats), 1, figsize=(8, 1.2 + 0.32 * len(rows) + 0.5 * len(formats)), sharex=True
    )
    axes_list = list(axes) if len(formats) > 1 else [axes]
    for ax, fmt in zip(axes_list, formats, strict=True):
        order = {"floor": 0, "tokenbench": 1}
        mine = sorted((r for r in rows if r.format == fmt), key=lambda r: (order.get(r.impl, 2), r.median_us))
        ax.barh(
            [r.impl for r in mine],
            [r.median_us for r in mine],
            xerr=[r.iqr_us / 2 for r in mine],
            color=[_color(r.impl) for r in mine],
        )
        ax.invert_yaxis()
        ax.set_title(fmt, loc="left", fontsize=10)
        ax.tick_params(labelsize=8)
        for i, r in enumerate(mine):
            ax.text(r.median_us + r.iqr_us / 2, i, f" {r.median_us:,.1f}", va="center", fontsize=7)
    axes_list[-1].set_xlabel(
        "median µs, one linear axis for every format (lower is better; bar: IQR)", fontsize=8
    )
    fig.suptitle("Verify an access token: floor, tokenbench, peers")
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    return fig


def verify_formats_figure(results: Results) -> Figure | None:
    """Every format and control row on one axis: the verifier beside the floor of the same algorithm.

    The verifier is tokenbench for the five formats and the control's own library (pyjwt for RS256,
    joserfc for JWE), so the bar pairs separate what the algorithm costs from what the envelope adds.
    """

    def verifier(fmt: str) -> str:
        return CONTROLS.get(fmt, "tokenbench")

    rows = [
        r
        for r in results.token
        if r.op == "verify"
        and r.kind == "access"
        and r.case == "ok"
        and r.impl in ("floor", verifier(r.format))
    ]
    formats = formats_in(rows)
    if not formats:
        return None
    fig, ax = plt.subplots(figsize=(8, 1.5 + 0.55 * len(formats)))
    for offset, floor in ((-0.2, True), (0.2, False)):
        mine = [
            (i, r)
            for i, f in enumerate(formats)
            for r in rows
            if r.format == f and (r.impl == "floor") == floor
        ]
        ax.barh(
            [i + offset for i, _ in mine],
            [r.median_us for _, r in mine],
            0.4,
            xerr=[r.iqr_us / 2 for _, r in mine],
            color=_FLOOR if floor else _HIGHLIGHT,
            label="floor (the algorithm)" if floor else "verifier: tokenbench, or a control's library",
        )
        for i, r in mine:
            ax.text(r.median_us + r.iqr_us / 2, i + offset, f" {r.median_us:,.1f}", va="center", fontsize=7)
    ax.set_yticks(range(len(formats)))
    ax.set_yticklabels([f"{f} (control: {CONTROLS[f]})" if f in CONTROLS else f for f in formats], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("median µs, linear (lower is better; bar: IQR)", fontsize=8)
    ax.set_title("Verify an access token: every format and control on one axis", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def http_figure(results: Results) -> Figure | None:
    """Requests per second: one linear panel per route (formats side by side), and GET /me per app."""
    service = [r for r in results.http if r.app == "service" and not r.load]
    formats = formats_in(service)
    if not formats:
        return None
    routes = [r for r in ROUTES if any(row.route == r for row in service)]
    me_rows = [r for r in results.http if r.route == "me" and not r.load]
    columns = 3
    rows_of_panels = -(-(len(routes) + 1) // columns)
    fig, grid = plt.subplots(rows_of_panels, columns, figsize=(13, 4 * rows_of_panels), squeeze=False)
    axes = list(grid.flat)
    for spare in axes[len(routes) + 1 :]:
        spare.set_visible(False)
    for ax, route in zip(axes[: len(routes)], routes, strict=True):
        mine = [
            next(r for r in service if r.format == f and r.route == route)
            for f in formats
            if any(r.format == f and r.route == route for r in service)
        ]
        xs = range(len(mine))
        low = [r.rps - min(r.rps_windows or (r.rps,)) for r in mine]
        high = [max(r.rps_windows or (r.rps,)) - r.rps for r in mine]
        ax.bar(
            xs,
            [r.rps for r in mine],
            yerr=[low, high],
            color=[_PALETTE[formats.index(r.format) % len(_PALETTE)] for r in mine],
        )
        ax.set_xticks(list(xs))
        ax.set_xticklabels([r.format for r in mine], rotation=30, ha="right", fontsize=7)
        ax.set_title(mine[0].request, fontsize=10)
        ax.set_ylabel("requests/s, linear (higher is better)", fontsize=8)
    right = axes[len(routes)]
    right.barh(
        [f"{r.app}\n{r.format}" for r in me_rows],
        [r.rps for r in me_rows],
        xerr=[
            [r.rps - min(r.rps_windows or (r.rps,)) for r in me_rows],
            [max(r.rps_windows or (r.rps,)) - r.rps for r in me_rows],
        ],
        color=[
            _HIGHLIGHT if r.app == "service" else _FLOOR if r.app == "minimal-guard" else _OTHER
            for r in me_rows
        ],
    )
    right.invert_yaxis()
    right.tick_params(labelsize=7)
    right.set_xlabel("GET /me requests/s (higher is better)", fontsize=8)
    right.set_title("GET /me: service, minimal guard, JWTAuth", fontsize=10)
    fig.suptitle("Request level (whiskers: the lowest and highest window)", fontsize=10)
    fig.tight_layout()
    return fig


def cost_stack_figure(results: Results) -> Figure | None:
    """Server CPU µs of one GET /me per format, stacked primitive -> library -> service -> HTTP.

    Every layer is drawn, so each bar ends at the table's total: a positive layer extends the bar, a
    negative one (noise: a difference of two medians) is drawn hatched, pointing back from where the bar
    had got to. A black tick marks the total.
    """
    stack = cost_stack(results)
    if not stack:
        return None
    fig, ax = plt.subplots(figsize=(9, 2.0 + 0.6 * len(stack)))
    formats = list(stack)
    ends = [0.0] * len(formats)
    for i, layer in enumerate(STACK_LAYERS):
        values = [stack[f][layer] for f in formats]
        color = _PALETTE[i % len(_PALETTE)]
        for row, (value, end) in enumerate(zip(values, ends, strict=True)):
            if value >= 0:
                ax.barh(row, value, left=end, color=color, label=layer if row == 0 else None)
            else:
                ax.barh(
                    row,
                    -value,
                    left=end + value,
                    color="white",
                    edgecolor=color,
                    hatch="////",
                    label=f"{layer} (negative: noise)"
                    if layer not in ax.get_legend_handles_labels()[1]
                    else None,
                )
        ends = [end + value for end, value in zip(ends, values, strict=True)]
    for row, total in enumerate(ends):
        ax.plot([total, total], [row - 0.45, row + 0.45], color="black", linewidth=1.5)
        ax.text(total, row, f" {total:,.0f}", va="center", fontsize=8)
    ax.set_yticks(range(len(formats)))
    ax.set_yticklabels(formats, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("server CPU µs per GET /me (black tick: the total, as in the table)")
    ax.set_title("Where one GET /me spends its CPU: primitive → library → service → HTTP", fontsize=10)
    ax.legend(fontsize=8, ncols=4, loc="upper center", bbox_to_anchor=(0.5, -0.25))
    fig.tight_layout()
    return fig


def sizes_figure(results: Results) -> Figure | None:
    """Bytes of the access and refresh tokens per format."""
    rows = [r for f in FORMATS for r in results.sizes if r.format == f]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(8, 3.5))
    xs = range(len(rows))
    ax.bar(
        [x - 0.2 for x in xs], [r.access_bytes for r in rows], 0.4, label="access token", color=_PALETTE[0]
    )
    ax.bar(
        [x + 0.2 for x in xs], [r.refresh_bytes for r in rows], 0.4, label="refresh token", color=_PALETTE[1]
    )
    ax.set_xticks(list(xs))
    ax.set_xticklabels([r.format for r in rows], fontsize=8)
    ax.set_ylabel("bytes")
    ax.set_title("Token sizes", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


CHARTS: Final[dict[str, Callable[[Results], Figure | None]]] = {
    "verify-formats": verify_formats_figure,
    "verify": verify_figure,
    "http": http_figure,
    "cost-stack": cost_stack_figure,
    "sizes": sizes_figure,
}


def write_charts(results: Results, directory: Path) -> dict[str, Path]:
    """Save every chart with data as ``directory/<name>.png``; return the paths by chart name."""
    directory.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, draw in CHARTS.items():
        fig = draw(results)
        if fig is None:
            continue
        path = directory / f"{name}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written[name] = path
    return written
