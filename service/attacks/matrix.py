"""The failure-mode matrix: each cell's verdict, the summary counts, and the Markdown and JSON renderings.

Everything rendered is deterministic (no times, tokens, key ids or temporary paths), so the committed
``docs/failure-modes.md`` can be compared byte for byte with a fresh run.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from formats import FormatName
from service.attacks.library import ORDINARY_CALL
from service.attacks.migration import MigrationReport, render_section
from service.attacks.model import Attack, Expect, Outcome, Section, Verdict
from service.attacks.runner import Cell

__all__ = [
    "Guard",
    "Report",
    "Status",
    "cell_guard",
    "cell_status",
    "library_accepting",
    "render_json",
    "render_markdown",
    "summary",
]

SHORT: Final = {
    FormatName.JWT_HS256: "HS256",
    FormatName.JWT_ES256: "ES256",
    FormatName.JWT_EDDSA: "EdDSA",
    FormatName.PASETO_V4_LOCAL: "v4.local",
    FormatName.PASETO_V4_PUBLIC: "v4.public",
}


class Status(enum.StrEnum):
    """A cell's overall verdict; each cell counts under exactly one."""

    ACCEPTED = "ACCEPTED"
    ERROR = "error"
    UNEXPECTED = "unexpected"
    NOT_RUN = "not run"
    STRUCTURAL = "not applicable: structurally impossible in this format"
    DEPLOYMENT = "not applicable: not this deployment"
    POLICY = "policy (by design; see the row)"
    REJECTED_AND_REFUSED = "rejected (401) and refused at start-up"
    REJECTED = "rejected (401)"
    REFUSED = "refused at start-up"
    HELD = "held (scenario or property check)"


@dataclass(frozen=True, slots=True)
class Report:
    """A whole run: what was attacked, and every cell."""

    target: str
    formats: tuple[FormatName, ...]
    attacks: tuple[Attack, ...]
    cells: Mapping[tuple[str, FormatName], Cell]
    migration: MigrationReport | None = None
    """The migration window's rows per ordered pair of formats (in-process runs of several formats)."""

    def cell(self, attack: Attack, name: FormatName) -> Cell:
        """The cell of ``attack`` in ``name``."""
        return self.cells[(attack.id, name)]

    @property
    def failed(self) -> bool:
        """An attack got through somewhere (or the service answered 5xx / crashed)."""
        window = self.migration is not None and self.migration.failed
        return window or any(obs.outcome.failed for cell in self.cells.values() for obs in cell.service)


def cell_status(cell: Cell) -> Status:
    """The one verdict a cell counts under (worst first)."""
    outcomes = {obs.outcome for obs in cell.service}
    applicability = cell.attack.applies[cell.format]
    if Outcome.ACCEPTED in outcomes:
        return Status.ACCEPTED
    if Outcome.ERROR in outcomes:
        return Status.ERROR
    if Outcome.UNEXPECTED in outcomes:
        return Status.UNEXPECTED
    if applicability.expect is Expect.STRUCTURAL:
        return Status.STRUCTURAL
    if applicability.expect is Expect.NOT_THIS_DEPLOYMENT or cell.not_this_deployment:
        return Status.DEPLOYMENT
    if applicability.expect is Expect.POLICY:
        return Status.POLICY
    if not outcomes or outcomes == {Outcome.NOT_RUN}:
        return Status.NOT_RUN
    if Outcome.REFUSED in outcomes and Outcome.REJECTED in outcomes:
        return Status.REJECTED_AND_REFUSED
    if Outcome.REFUSED in outcomes:
        return Status.REFUSED
    if Outcome.REJECTED in outcomes:
        return Status.REJECTED
    return Status.HELD


def summary(report: Report) -> dict[FormatName, dict[Status, int]]:
    """Per format, how many cells count under each status."""
    counts: dict[FormatName, dict[Status, int]] = {name: dict.fromkeys(Status, 0) for name in report.formats}
    for (_, name), cell in report.cells.items():
        counts[name][cell_status(cell)] += 1
    return counts


class Guard(enum.StrEnum):
    """Who stops an attack in one format when tokenbench is not there: the verdict section's categories.

    Each cell counts under exactly one (:func:`cell_guard`).
    """

    FAILED = "got through tokenbench (or made it fail)"
    FORMAT = "prevented by the format's construction"
    LIBRARY = "caught by a careful library"
    SERVICE = "caught only by the service"
    SERVICE_ROW = "service row: no library decides this"
    POLICY = "policy"
    NOT_APPLICABLE = "not this deployment"
    NOT_RUN = "not run"
    UNCOMPARED = "no library call compared"


GUARD_LABEL: Final = {
    Guard.FAILED: "**got through**",
    Guard.FORMAT: "construction",
    Guard.LIBRARY: "library",
    Guard.SERVICE: "service only",
    Guard.SERVICE_ROW: "service row",
    Guard.POLICY: "policy",
    Guard.NOT_APPLICABLE: "n/a",
    Guard.NOT_RUN: "not run",
    Guard.UNCOMPARED: "uncompared",
}
"""The short words of the verdict table's cells."""

SERVICE_ROW_NOTE: Final = (
    "Service row: no library decides this. The token is genuine; the session store, the transport or the "
    "account layer decides, alike in every format (the variants below show what the library call returned)."
)
RECORD_NOTE: Final = "The library no longer behaves as the catalog recorded: see the row's variants."


def library_lets_through(cell: Cell) -> bool:
    """A row a library decides, where the bare library's ordinary call accepted at least one variant."""
    return cell.attack.library_decides and any(obs.verdict is Verdict.ACCEPTS for obs in cell.library)


def cell_guard(cell: Cell) -> Guard:
    """Who stops the cell's attack without tokenbench: the format, a careful library, or only the service."""
    status = cell_status(cell)
    if status in (Status.ACCEPTED, Status.ERROR):
        return Guard.FAILED
    if status is Status.STRUCTURAL:
        return Guard.FORMAT
    if status is Status.DEPLOYMENT:
        return Guard.NOT_APPLICABLE
    if status is Status.POLICY:
        return Guard.POLICY
    if status is Status.NOT_RUN:
        return Guard.NOT_RUN
    if not cell.attack.library_decides:
        return Guard.SERVICE_ROW
    if not cell.library:
        return Guard.UNCOMPARED
    return Guard.SERVICE if library_lets_through(cell) else Guard.LIBRARY


def library_accepting(report: Report, name: FormatName) -> int:
    """Rows a library decides where the bare library accepted at least one variant."""
    return sum(1 for attack in report.attacks if library_lets_through(report.cell(attack, name)))


def guards(report: Report, attacks: Iterable[Attack]) -> dict[FormatName, dict[Guard, int]]:
    """Per format, how many of ``attacks`` count under each guard."""
    counts = {name: dict.fromkeys(Guard, 0) for name in report.formats}
    for attack in attacks:
        for name in report.formats:
            counts[name][cell_guard(report.cell(attack, name))] += 1
    return counts


# --- cell texts --------------------------------------------------------------------------------------


class Notes:
    """The page's footnotes: one number per distinct text, in order of first use."""

    def __init__(self) -> None:
        self._numbers: dict[str, int] = {}

    def ref(self, text: str) -> str:
        """``[^n]`` for ``text`` (the same text always gets the same number)."""
        number = self._numbers.setdefault(text, len(self._numbers) + 1)
        return f"[^{number}]"

    def lines(self) -> list[str]:
        """The footnote definitions."""
        return [f"[^{number}]: {_escape(text)}" for text, number in self._numbers.items()]


TALLY: Final = (
    (Outcome.ACCEPTED, "**ACCEPTED**"),
    (Outcome.ERROR, "**ERROR**"),
    (Outcome.UNEXPECTED, "unexpected"),
    (Outcome.REJECTED, "rejected"),
    (Outcome.REFUSED, "refused at start-up"),
    (Outcome.HELD, "held"),
    (Outcome.POLICY, "by design"),
    (Outcome.NOT_RUN, "not run"),
)
"""How a cell counts its variants' outcomes, worst first (the statuses and codes are in the variants)."""


def tally(cell: Cell) -> str:
    """``rejected 7/13; refused at start-up 6/13``: every outcome seen, none that was not."""
    total = len(cell.service)
    counts = [(label, sum(1 for obs in cell.service if obs.outcome is outcome)) for outcome, label in TALLY]
    return "; ".join(f"{label} {count}/{total}" for label, count in counts if count)


def service_text(cell: Cell, notes: Notes) -> str:
    """The tokenbench cell: the outcomes counted, with the reason as a footnote."""
    status = cell_status(cell)
    applicability = cell.attack.applies[cell.format]
    why = cell.not_this_deployment or applicability.why
    note = notes.ref(why) if why else ""
    counted = tally(cell)
    if status in (Status.ACCEPTED, Status.ERROR, Status.UNEXPECTED):
        return counted
    if status is Status.STRUCTURAL:
        return f"n/a: construction{note}" + (f"; probed: {counted}" if counted else "")
    if status is Status.DEPLOYMENT:
        return f"n/a{note}" + (f"; probed: {counted}" if counted else "")
    if status is Status.POLICY:
        return f"policy{note}" + (f"; {counted}" if counted else "")
    return f"{counted}{note}"


def library_text(cell: Cell, notes: Notes, *, first: bool) -> str:
    """The bare-library cell: how many variants the ordinary call accepted, where a library decides."""
    if not cell.attack.library_decides:
        return f"service row{notes.ref(SERVICE_ROW_NOTE)}" if first else ""
    if not cell.library:
        return "—"
    accepted = sum(1 for obs in cell.library if obs.verdict is Verdict.ACCEPTS)
    total = len(cell.library)
    text = f"**accepts {accepted}/{total}**" if accepted else f"rejects {total}/{total}"
    if any(not obs.matches_record for obs in cell.library):
        text += notes.ref(RECORD_NOTE)
    return text


# --- Markdown ----------------------------------------------------------------------------------------

READING_GUIDE: Final = """\
## How to read this

**What PASETO removes by design.** A PASETO token names its version and purpose in its first two
segments, and a key is bound to one (version, purpose): there is no `alg` header to set to `none` or to
HS256, no `jwk`/`x5c`/`jku`/`crit` header to smuggle a key or an extension in, no ECDSA signature encoding
to vary, no JWE path to decompress. Those rows read "n/a: construction" in the PASETO columns. The
implicit assertion binds the token's kind into the MAC or signature without sending it, so a refresh token
presented as an access token fails authentication itself. v4.local also hides the claims.

**What JWT needs configuration for.** The same attacks are held in the JWT columns, but only because the
service pins one algorithm, accepts exactly the header members `alg`, `kid` and `typ`, binds the kind with
`typ` (`at+jwt` / `rt+jwt`), refuses weak or public keys as HMAC secrets at start-up, and checks `exp`,
`iat`, `iss` and `aud` itself. The bare-library columns show where an application calling
`jwt.decode(token, key, algorithms=[...])` and nothing more would have let the same tokens through
(missing `exp`, numeric-string `exp`, foreign `iss`, token kinds, padded signatures, duplicate members).

**The control: EdDSA against v4.public.** `jwt-eddsa` signs with Ed25519, checked by the same
function as `paseto-v4-public`, so where the two columns differ the envelope (JWS or PASETO) made the
difference, never the algorithm: the header rows (`alg`, `jwk`, `x5c`, `jku`, `crit`) and the kind
binding, against the same curve, key and signature checks. What they share is key handling: one Ed25519
key in both formats' directories is refused at start-up (`CROSS-FORMAT-KEY-REUSE`).

**What both formats leave to the service.** pyseto checks no claim unless asked (no `iat`, `iss`, `aud`
or required `exp`), parses any ISO 8601 date, accepts non-canonical base64, keys of the wrong length, a
caller's nonce and mixed key lists; the service's strict parser and start-up checks close those. The
key-management rows apply to both families.

**What neither format solves.** Revocation: access tokens are stateless, so logout ends the refresh family
at once but an access token lives until its `exp` (keep `TOKENBENCH_ACCESS_TTL` short). Replay: a bearer
token is usable by whoever holds it until it expires; only refresh tokens are single-use, and only because
the session store remembers their `jti`. Leaked keys: whoever holds the signing key (or the v4.local /
HS256 secret) mints any token the suite forges with it here; rotate with `.venv/bin/tokenbench keys rotate`
and keep
key files readable by the service alone.
"""


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _attack_label(attack: Attack) -> str:
    return f"`{attack.id}` {_escape(attack.title)}"


def _ids(attacks: Iterable[Attack]) -> str:
    return ", ".join(f"`{attack.id}`" for attack in attacks)


def _names(names: Iterable[FormatName]) -> str:
    return ", ".join(name.value for name in names)


def _numbers(values: Sequence[int]) -> str:
    """``19 and 16``, ``14, 11 and 13``."""
    texts = [str(v) for v in values]
    return texts[0] if len(texts) == 1 else ", ".join(texts[:-1]) + " and " + texts[-1]


def _compare(ours: Sequence[int], theirs: Sequence[int]) -> str:
    """``more rows through than``, ``fewer ...`` or ``about as many ... as``: each of ours against theirs."""
    if min(ours) > max(theirs):
        return "more rows through than"
    if max(ours) < min(theirs):
        return "fewer rows through than"
    return "about as many rows through as"


def _guard_cell(counts: Mapping[Guard, int]) -> str:
    return " · ".join(f"{counts[guard]} {GUARD_LABEL[guard]}" for guard in Guard if counts[guard]) or "—"


def render_verdict(report: Report) -> list[str]:
    """The verdict section: per family, what stops each attack without tokenbench; the finding in words."""
    names = report.formats
    decided = [a for a in report.attacks if a.library_decides]
    lines = [
        "## Verdict",
        "",
        f"Who stops each of the {len(report.attacks)} rows when tokenbench is not there, per format, counted "
        "from this run:",
        "",
        f"* **construction**: {Guard.FORMAT}: the format has no such header, mode or field;",
        f"* **library**: {Guard.LIBRARY}: the bare library's ordinary call (below) refuses every variant, "
        "because the library checks it (pyjwt's algorithm allow-list, pyseto's header match);",
        f"* **service only**: {Guard.SERVICE}: the ordinary call lets at least one variant through, and "
        "tokenbench's own checks refuse it: an application using the library directly must add them;",
        f"* **service row**: {Guard.SERVICE_ROW}: the token is genuine; the session store, the transport "
        "or the account layer decides, in every format alike;",
        "* **n/a** and **policy**: not this deployment of the format, or a design rule (see the row).",
        "",
        "| family | " + " | ".join(name.value for name in names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for section in Section:
        attacks = [a for a in report.attacks if a.section is section]
        if attacks:
            counts = guards(report, attacks)
            lines.append(
                f"| {section.value} ({len(attacks)}) | "
                + " | ".join(_guard_cell(counts[n]) for n in names)
                + " |"
            )
    totals = guards(report, report.attacks)
    lines.append(
        f"| all rows ({len(report.attacks)}) | " + " | ".join(_guard_cell(totals[n]) for n in names) + " |"
    )
    lines += ["", *_findings(report, decided), ""]
    return lines


def _findings(report: Report, decided: Sequence[Attack]) -> list[str]:
    names = report.formats
    jwt = [n for n in names if n.value.startswith("jwt-")]
    paseto = [n for n in names if n.value.startswith("paseto-")]
    through = {n: library_accepting(report, n) for n in names}

    def count(guard: Guard, name: FormatName, attacks: Iterable[Attack]) -> int:
        return sum(1 for a in attacks if cell_guard(report.cell(a, name)) is guard)

    lines = [
        f"**The bare libraries let through** at least one variant of {_numbers([through[n] for n in names])} "
        f"of the {len(decided)} rows a library decides ({_names(names)}).",
    ]
    failed = [n.value for n in names if count(Guard.FAILED, n, report.attacks)]
    if failed:
        lines += [
            "",
            f"**Attacks got through tokenbench** in {', '.join(failed)}: see the rows marked ACCEPTED.",
        ]
    if jwt and paseto:
        built_in = [a for a in report.attacks if any(count(Guard.FORMAT, n, [a]) for n in paseto)]
        families = " and ".join(s.value for s in Section if any(a.section is s for a in built_in))
        pyseto_through = [through[n] for n in paseto]
        pyjwt_through = [through[n] for n in jwt]
        prevented = _numbers([count(Guard.FORMAT, n, built_in) for n in paseto])
        jwt_library = _numbers([count(Guard.LIBRARY, n, built_in) for n in jwt])
        jwt_service = _numbers([count(Guard.SERVICE, n, built_in) for n in jwt])
        lines += [
            "",
            f"**PASETO prevents by construction** {prevented} rows ({_names(paseto)}), all in {families}: "
            f"{_ids(built_in)}. In the same rows the JWT formats rely on a careful library in {jwt_library} "
            f"rows and on the service alone in {jwt_service} ({_names(jwt)}).",
            "",
            '**So "PASETO is safer by construction" holds for those rows only.** Over every row a library '
            f"decides, the bare PASETO libraries let {_compare(pyseto_through, pyjwt_through)} pyjwt: "
            f"{_numbers(pyseto_through)} against {_numbers(pyjwt_through)}. What pyseto leaves "
            "open (claims, key lengths, non-canonical base64, key lists) the service has to close, as it "
            "closes pyjwt's gaps.",
        ]
    lines += [
        "",
        "**Which format needs which care** (rows where the bare library lets a variant through):",
        "",
    ]
    for name in names:
        open_rows = [a for a in decided if cell_guard(report.cell(a, name)) is Guard.SERVICE]
        by_family = [
            f"{section.value}: {_ids(a for a in open_rows if a.section is section)}"
            for section in Section
            if any(a.section is section for a in open_rows)
        ]
        lines.append(
            f"* **{name.value}**: the service for {len(open_rows)} rows"
            + (f" ({'; '.join(by_family)})" if by_family else "")
            + f"; a careful library for {count(Guard.LIBRARY, name, decided)} more."
        )
    return lines


def render_markdown(report: Report, *, command: str) -> str:
    """The failure-mode matrix page: verdict, reading guide, summary, the matrix, variants, notes."""
    names = report.formats
    notes = Notes()
    lines = [
        "# Failure-mode matrix",
        "",
        f"> Generated by `{command}`. Do not edit by hand: run `make attacks` to regenerate it; a test fails",
        "> when this page differs from what the command produces.",
        "",
        f"Every row of the attack catalog ({sum(not a.extra for a in report.attacks)} rows, ids as in "
        f"`tests/attacks/CATALOG.md`) and {sum(a.extra for a in report.attacks)} rows for design "
        "principles ([design.md](design.md)) the catalog does not spell out, run against the service in each "
        f"format ({report.target}), next to the same tokens given to the bare library's ordinary call:",
        "",
        *[f"* {name.value}: `{ORDINARY_CALL[name]}`" for name in names],
        "",
        *render_verdict(report),
        READING_GUIDE.rstrip(),
        "",
        "**The cells.** A **tokenbench** cell counts the row's variants: `rejected k/n` (refused with the "
        "expected status and `code`), `refused at start-up k/n`, `held k/n` (a scenario or property that "
        "holds), `policy` (a design decision), `n/a` (not this deployment) or `n/a: construction` (the "
        "format has no such thing; `probed:` counts what was sent anyway), or **ACCEPTED**. A **bare "
        "library** cell says how many variants the ordinary call accepted. The reasons are footnotes; each "
        "variant's status, `code` and start-up message are under [Variants](#variants).",
        "",
        "## Summary",
        "",
        "| cells | " + " | ".join(name.value for name in names) + " |",
        "|---|" + "---|" * len(names),
    ]
    counts = summary(report)
    for status in Status:
        if any(counts[name][status] for name in names) or status is Status.ACCEPTED:
            label = f"**{status.value}**" if status is Status.ACCEPTED else status.value
            lines.append(f"| {label} | " + " | ".join(str(counts[name][status]) for name in names) + " |")
    lines.append("| rows | " + " | ".join(str(len(report.attacks)) for _ in names) + " |")
    lines.append(
        "| bare library accepted at least one variant (rows a library decides) | "
        + " | ".join(str(library_accepting(report, name)) for name in names)
        + " |"
    )
    lines.append("")
    header = (
        "| attack | "
        + " | ".join(f"tokenbench {SHORT[n]}" for n in names)
        + " | "
        + " | ".join(f"bare library {SHORT[n]}" for n in names)
        + " |"
    )
    for section in Section:
        attacks = [a for a in report.attacks if a.section is section]
        if not attacks:
            continue
        lines += ["", f"## {section.value}", "", header, "|---|" + "---|" * (2 * len(names))]
        for attack in attacks:
            cells = [report.cell(attack, n) for n in names]
            lines.append(
                f"| {_attack_label(attack)} | "
                + " | ".join(_escape(service_text(c, notes)) for c in cells)
                + " | "
                + " | ".join(library_text(c, notes, first=i == 0) for i, c in enumerate(cells))
                + " |"
            )
    if report.migration is not None:
        lines += ["", *render_section(report.migration)]
    lines += ["", "## Variants", "", "What each row sent, and what came back, format by format.", ""]
    for attack in report.attacks:
        lines += _details(report, attack)
    lines += ["", *notes.lines(), ""]
    return "\n".join(lines)


def _variant_table(
    names: Sequence[FormatName], rows: Mapping[str, dict[FormatName, str]], first: str
) -> list[str]:
    lines = [f"| {first} | " + " | ".join(n.value for n in names) + " |", "|---|" + "---|" * len(names)]
    for variant, per_format in rows.items():
        lines.append(
            f"| {_escape(variant)} | " + " | ".join(_escape(per_format.get(n, "")) for n in names) + " |"
        )
    return lines


def _details(report: Report, attack: Attack) -> list[str]:
    names = report.formats
    lines = [f"### `{attack.id}` {attack.title}", ""]
    if attack.library_note:
        lines += [f"Bare library: {attack.library_note}", ""]
    service_rows: dict[str, dict[FormatName, str]] = {}
    library_rows: dict[str, dict[FormatName, str]] = {}
    for name in names:
        cell = report.cell(attack, name)
        for obs in cell.service:
            mark = (
                ""
                if obs.outcome in (Outcome.REJECTED, Outcome.REFUSED, Outcome.HELD)
                else f"{obs.outcome.value}: "
            )
            service_rows.setdefault(obs.variant, {})[name] = mark + obs.seen
        for lib in cell.library:
            text = f"{lib.verdict.value} ({lib.detail})"
            if not lib.matches_record:
                text += f", catalog recorded {lib.recorded.value}"
            library_rows.setdefault(lib.variant, {})[name] = text
    if service_rows:
        lines += _variant_table(names, service_rows, "tokenbench: variant")
        lines.append("")
    if library_rows:
        lines += _variant_table(names, library_rows, "bare library: variant")
        lines.append("")
    if not service_rows and not library_rows:
        lines += ["Nothing to send in these formats (see the matrix for why).", ""]
    return lines


# --- JSON --------------------------------------------------------------------------------------------


def render_json(report: Report) -> str:
    """The whole run as JSON: summary counts, and every cell with every variant."""
    counts = summary(report)

    def cell_json(cell: Cell) -> dict[str, Any]:
        applicability = cell.attack.applies[cell.format]
        return {
            "expected": applicability.expect.value,
            "why": cell.not_this_deployment or applicability.why,
            "status": cell_status(cell).value,
            "guard": cell_guard(cell).value,
            "service": [
                {"variant": o.variant, "outcome": o.outcome.value, "seen": o.seen, "expected": o.expected}
                for o in cell.service
            ],
            "library": [
                {
                    "variant": o.variant,
                    "verdict": o.verdict.value,
                    "detail": o.detail,
                    "recorded": o.recorded.value,
                }
                for o in cell.library
            ],
        }

    document = {
        "target": report.target,
        "formats": [n.value for n in report.formats],
        "failed": report.failed,
        "summary": {n.value: {s.value: c for s, c in counts[n].items()} for n in report.formats},
        "attacks": [
            {
                "id": attack.id,
                "title": attack.title,
                "section": attack.section.value,
                "extra": attack.extra,
                "library_decides": attack.library_decides,
                "formats": {n.value: cell_json(report.cell(attack, n)) for n in report.formats},
            }
            for attack in report.attacks
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def failures(report: Report) -> Iterable[str]:
    """One line per variant that got through or made the service fail."""
    for (attack_id, name), cell in report.cells.items():
        for obs in cell.service:
            if obs.outcome.failed:
                yield f"{attack_id} [{name.value}] {obs.variant}: {obs.outcome.value} ({obs.seen})"
    if report.migration is not None:
        for (attack_id, old, new), observations in report.migration.cells.items():
            for obs in observations:
                if obs.outcome.failed:
                    pair = f"{old.value} -> {new.value}"
                    yield f"{attack_id} [{pair}] {obs.variant}: {obs.outcome.value} ({obs.seen})"
