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

from benchmarks.report import FORMATS, ROUTES, STACK_LAYERS, cost_stack
from benchmarks.results import Results

__all__ = ["cost_stack_figure", "http_figure", "sizes_figure", "verify_figure", "write_charts"]

_HIGHLIGHT: Final = "#d1495b"
_FLOOR: Final = "#8d99ae"
_OTHER: Final = "#4a6fa5"
_PALETTE: Final = ("#2e86ab", "#f18f01", "#6a994e", "#a23b72", "#5f4b8b")


def _formats(present: set[str]) -> list[str]:
    return [f for f in FORMATS if f in present]


def verify_figure(results: Results) -> Figure | None:
    """One panel per format: median µs to verify an access token, floor, tokenbench and peers."""
    rows = [r for r in results.token if r.op == "verify" and r.kind == "access"]
    formats = _formats({r.format for r in rows})
    if not formats:
        return None
    fig, axes = plt.subplots(
        len(formats), 1, figsize=(8, 1.2 + 1.3 * len(rows) / len(formats) * len(formats))
    )
    axes_list = list(axes) if len(formats) > 1 else [axes]
    for ax, fmt in zip(axes_list, formats, strict=True):
        order = {"floor": 0, "tokenbench": 1}
        mine = sorted((r for r in rows if r.format == fmt), key=lambda r: (order.get(r.impl, 2), r.median_us))
        names = [r.impl for r in mine]
        colors = [_HIGHLIGHT if n == "tokenbench" else _FLOOR if n == "floor" else _OTHER for n in names]
        ax.barh(names, [r.median_us for r in mine], color=colors)
        ax.invert_yaxis()
        ax.set_title(fmt, loc="left", fontsize=10)
        ax.set_xlabel("median µs (lower is better)", fontsize=8)
        ax.tick_params(labelsize=8)
        for i, r in enumerate(mine):
            ax.text(r.median_us, i, f" {r.median_us:,.1f}", va="center", fontsize=7)
    fig.suptitle("Verify an access token: floor, tokenbench, peers")
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    return fig


def http_figure(results: Results) -> Figure | None:
    """Requests per second: every route of the service per format, and GET /me against the comparisons."""
    service = [r for r in results.http if r.app == "service" and not r.load]
    formats = _formats({r.format for r in service})
    if not formats:
        return None
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    routes = [r for r in ROUTES if any(row.route == r for row in service)]
    width = 0.8 / len(formats)
    for i, fmt in enumerate(formats):
        values = [
            next((r.rps for r in service if r.format == fmt and r.route == route), 0.0) for route in routes
        ]
        left.bar(
            [x + i * width for x in range(len(routes))],
            values,
            width,
            label=fmt,
            color=_PALETTE[i % len(_PALETTE)],
        )
    left.set_xticks([x + width * (len(formats) - 1) / 2 for x in range(len(routes))])
    left.set_xticklabels(
        [next(r.request for r in service if r.route == route) for route in routes], fontsize=8
    )
    left.set_yscale("log")
    left.set_ylabel("requests/s (log scale, higher is better)")
    left.set_title("The service, per route and format", fontsize=10)
    left.legend(fontsize=8)

    me_rows = [r for r in results.http if r.route == "me" and not r.load]
    labels = [f"{r.app}\n{r.format}" for r in me_rows]
    colors = [
        _HIGHLIGHT if r.app == "service" else _FLOOR if r.app == "minimal-guard" else _OTHER for r in me_rows
    ]
    right.barh(labels, [r.rps for r in me_rows], color=colors)
    right.invert_yaxis()
    right.tick_params(labelsize=7)
    right.set_xlabel("GET /me requests/s (higher is better)")
    right.set_title("GET /me: service, minimal guard, Litestar JWTAuth", fontsize=10)
    fig.tight_layout()
    return fig


def cost_stack_figure(results: Results) -> Figure | None:
    """Server CPU µs of one GET /me per format, stacked primitive -> library -> service -> HTTP."""
    stack = cost_stack(results)
    if not stack:
        return None
    fig, ax = plt.subplots(figsize=(9, 2.0 + 0.6 * len(stack)))
    formats = list(stack)
    left = [0.0] * len(formats)
    for i, layer in enumerate(STACK_LAYERS):
        widths = [max(stack[f][layer], 0.0) for f in formats]
        ax.barh(formats, widths, left=left, label=layer, color=_PALETTE[i])
        left = [a + b for a, b in zip(left, widths, strict=True)]
    ax.invert_yaxis()
    ax.set_xlabel("server CPU µs per GET /me")
    ax.set_title("Where one GET /me spends its CPU: primitive → library → service → HTTP", fontsize=10)
    ax.legend(fontsize=8, ncols=4, loc="upper center", bbox_to_anchor=(0.5, -0.2))
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
