"""The raw results of one ``tokenbench bench`` run: what the runner writes as JSON and the report reads.

Frozen msgspec Structs, so a recorded run decodes into exactly these types (the report tests use one)
and a malformed file fails loudly instead of rendering a wrong table.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

__all__ = [
    "STORE_LOAD",
    "HttpRow",
    "Meta",
    "RatioRow",
    "Results",
    "SizeRow",
    "TokenRow",
    "read_results",
    "write_results",
]

SCHEMA = 1
STORE_LOAD = "store: "
"""``HttpRow.load`` of a refresh row measured per store (``store: sqlite``; ``benchmarks.refresh_stores``)."""


class Meta(msgspec.Struct, frozen=True, kw_only=True):
    """Where, when, with what and how the run measured."""

    schema: int = SCHEMA
    mode: str  # "full", "quick" or "smoke"
    command: str
    started: str  # ISO 8601, UTC
    elapsed_s: float
    commit: str
    python: str
    libraries: dict[str, str]
    cpu_model: str
    cores: int
    platform: str
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    token_method: str
    http_method: str
    http_tool: str
    http_connections: int
    http_window_s: float
    login_clients: int
    # The machine's noise (absent from runs recorded before it was measured): CPU steal and the CPU of
    # every process outside the benchmark, in percent of all cores, over a short sample before the run;
    # ``--settle``: how long the run was allowed to wait for a quiet machine, and whether it got one.
    steal_before_pct: float | None = None
    others_before_pct: float | None = None
    settle_s: float = 0.0
    settled: bool | None = None  # None: the run did not wait
    settle_waited_s: float = 0.0
    ratio_method: str = ""  # how the interleaved A/B comparisons were measured ("" before they existed)


class TokenRow(msgspec.Struct, frozen=True, kw_only=True):
    """One pytest-benchmark measurement (times in microseconds)."""

    format: str
    op: str  # issue | verify | reject | password-verify (format "": the login's argon2id alone)
    impl: str  # floor | tokenbench | a peer name
    kind: str  # access | refresh
    case: str  # ok | bad-signature | garbage
    median_us: float
    iqr_us: float
    mean_us: float
    min_us: float
    rounds: int


class RatioRow(msgspec.Struct, frozen=True, kw_only=True):
    """One interleaved A/B comparison at the token level (``benchmarks.interleaved``): B's time over A's."""

    format: str
    comparison: str  # window | reject
    case: str  # "" (window) | bad-signature | wrong-kind
    median: float  # median of the pairs' ratios B/A
    q1: float
    q3: float
    pairs: int
    a_us: float  # median over the pairs of A's time per call
    b_us: float


class HttpRow(msgspec.Struct, frozen=True, kw_only=True):
    """One load window against one server."""

    app: str  # service | minimal-guard | jwtauth
    format: str
    route: str  # open | me | refresh | login
    request: str  # e.g. "GET /me"
    load: str  # "" or what ran beside it, e.g. "8 clients logging in"
    tool: str
    connections: int
    windows: int  # load windows behind this row; rates, latencies and CPU are their medians
    duration_s: float  # all windows together
    requests: int
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_us: float  # server CPU (user + system, whole process tree) per request
    statuses: dict[str, int] = {}
    # Per window, in the order measured (empty in runs recorded before they were kept): the spread of a
    # row is how far its windows disagree. The machine during the windows: the highest 1-minute load
    # average, and the median steal and CPU of other processes (percent of all cores).
    rps_windows: tuple[float, ...] = ()
    cpu_us_windows: tuple[float, ...] = ()
    p99_ms_windows: tuple[float, ...] = ()
    load1_max: float | None = None
    steal_pct: float | None = None
    others_pct: float | None = None


class SizeRow(msgspec.Struct, frozen=True, kw_only=True):
    """Bytes on the wire of the tokens the service issued at login (:mod:`benchmarks.sizes`)."""

    format: str
    access_bytes: int
    refresh_bytes: int
    authorization_header_bytes: int  # "Authorization: Bearer <access>\r\n"
    cookie_header_bytes: int  # "Cookie: refresh_token=<refresh>\r\n"


class Results(msgspec.Struct, frozen=True, kw_only=True):
    """Everything one run measured."""

    meta: Meta
    token: tuple[TokenRow, ...]
    http: tuple[HttpRow, ...]
    sizes: tuple[SizeRow, ...]
    reference_sizes: tuple[SizeRow, ...] = ()
    """The pair the service issues with its default settings (``benchmarks.sizes.token_sizes()``): the
    sizes every other page states. Empty in runs recorded before it was kept."""
    ratios: tuple[RatioRow, ...] = ()  # absent from runs made before the interleaved comparisons


def write_results(results: Results, path: Path) -> None:
    """Write ``results`` as indented JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(msgspec.json.format(msgspec.json.encode(results), indent=2) + b"\n")


def read_results(path: Path) -> Results:
    """Read a results file written by :func:`write_results`."""
    return msgspec.json.decode(path.read_bytes(), type=Results)
