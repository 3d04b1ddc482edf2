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
from service.attacks.model import Attack, Expect, Outcome, Section, Verdict
from service.attacks.runner import Cell

__all__ = ["Report", "Status", "cell_status", "render_json", "render_markdown", "summary"]

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

    def cell(self, attack: Attack, name: FormatName) -> Cell:
        """The cell of ``attack`` in ``name``."""
        return self.cells[(attack.id, name)]

    @property
    def failed(self) -> bool:
        """An attack got through somewhere (or the service answered 5xx / crashed)."""
        return any(obs.outcome.failed for cell in self.cells.values() for obs in cell.service)


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


def library_accepting(report: Report, name: FormatName) -> int:
    """Rows where the bare library accepted at least one variant."""
    return sum(
        1
        for attack in report.attacks
        if any(obs.verdict is Verdict.ACCEPTS for obs in report.cell(attack, name).library)
    )


# --- cell texts --------------------------------------------------------------------------------------


def _codes(cell: Cell, outcome: Outcome) -> str:
    """``401: token_a, token_b`` for the replies seen (grouped by status)."""
    by_status: dict[str, set[str]] = {}
    for obs in cell.service:
        if obs.outcome is outcome:
            status, _, code = obs.seen.partition(" ")
            by_status.setdefault(status, set()).add(code)
    return "; ".join(
        f"{status}: {', '.join(sorted(c for c in codes if c))}" if any(codes) else status
        for status, codes in sorted(by_status.items())
    )


def _count(cell: Cell, *outcomes: Outcome) -> int:
    return sum(1 for obs in cell.service if obs.outcome in outcomes)


def service_text(cell: Cell) -> str:
    """The tokenbench cell: rejected with the codes seen, refused, n/a with why, or ACCEPTED."""
    status = cell_status(cell)
    applicability = cell.attack.applies[cell.format]
    total = len(cell.service)
    if status is Status.ACCEPTED:
        got = [obs.variant for obs in cell.service if obs.outcome is Outcome.ACCEPTED]
        return f"**ACCEPTED** {len(got)}/{total}: " + "; ".join(got)
    if status is Status.ERROR:
        return f"**ERROR** {_count(cell, Outcome.ERROR)}/{total}: {_codes(cell, Outcome.ERROR)}"
    if status is Status.UNEXPECTED:
        wrong = [obs for obs in cell.service if obs.outcome is Outcome.UNEXPECTED]
        return "unexpected: " + "; ".join(f"{obs.seen} (expected {obs.expected})" for obs in wrong)
    probed = ""
    if cell.service and status in (Status.STRUCTURAL, Status.DEPLOYMENT):
        rejected = _count(cell, Outcome.REJECTED)
        probed = f"; probed anyway: rejected {rejected}/{total} ({_codes(cell, Outcome.REJECTED)})"
    if status is Status.STRUCTURAL:
        return f"n/a, structurally impossible: {applicability.why}{probed}"
    if status is Status.DEPLOYMENT:
        return f"n/a, not this deployment: {cell.not_this_deployment or applicability.why}{probed}"
    if status is Status.NOT_RUN:
        return "not run: " + "; ".join(
            sorted({obs.seen for obs in cell.service if obs.outcome is Outcome.NOT_RUN})
        )
    parts = []
    if _count(cell, Outcome.REJECTED):
        parts.append(f"rejected {_count(cell, Outcome.REJECTED)}/{total} ({_codes(cell, Outcome.REJECTED)})")
    if _count(cell, Outcome.REFUSED):
        parts.append(f"refused at start-up {_count(cell, Outcome.REFUSED)}/{total}")
    if _count(cell, Outcome.HELD):
        parts.append(f"held {_count(cell, Outcome.HELD)}/{total}")
    if _count(cell, Outcome.NOT_RUN):
        parts.append(f"not run {_count(cell, Outcome.NOT_RUN)}/{total}")
    if applicability.expect is Expect.HOLD and applicability.why:
        parts.append(applicability.why)
    if status is Status.POLICY:
        seen = "; ".join(obs.seen for obs in cell.service if obs.outcome is Outcome.POLICY)
        parts.insert(0, f"policy: {applicability.why}" + (f" (seen: {seen})" if seen else ""))
    return "; ".join(parts)


def library_text(cell: Cell) -> str:
    """The bare-library cell: how many variants the ordinary call accepted."""
    if not cell.library:
        return "—"
    accepted = sum(1 for obs in cell.library if obs.verdict is Verdict.ACCEPTS)
    text = (
        f"**accepts {accepted}/{len(cell.library)}**"
        if accepted
        else f"rejects {len(cell.library)}/{len(cell.library)}"
    )
    if any(not obs.matches_record for obs in cell.library):
        text += " (differs from the catalog's record)"
    return text


# --- Markdown ----------------------------------------------------------------------------------------

READING_GUIDE: Final = """\
## How to read this

**What PASETO removes by design.** A PASETO token names its version and purpose in its first two
segments, and a key is bound to one (version, purpose): there is no `alg` header to set to `none` or to
HS256, no `jwk`/`x5c`/`jku`/`crit` header to smuggle a key or an extension in, no ECDSA signature encoding
to vary, no JWE path to decompress. Those rows are "structurally impossible" in the PASETO columns. The
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
HS256 secret) mints any token the suite forges with it here; rotate with `tokenbench keys rotate` and keep
key files readable by the service alone.
"""


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _attack_label(attack: Attack) -> str:
    return f"`{attack.id}` {_escape(attack.title)}"


def render_markdown(report: Report, *, command: str) -> str:
    """The failure-mode matrix page."""
    names = report.formats
    lines = [
        "# Failure-mode matrix",
        "",
        f"> Generated by `{command}`. Do not edit by hand: run `make attacks` to regenerate it; a test fails",
        "> when this page differs from what the command produces.",
        "",
        f"Every row of the attack catalog ({sum(not a.extra for a in report.attacks)} rows, ids as in "
        f"`tests/attacks/CATALOG.md`) and {sum(a.extra for a in report.attacks)} rows for design "
        "principles (`docs/design.md`) the catalog does not spell out, run against the service in each "
        f"format ({report.target}), next to the same tokens given to the bare library's ordinary call.",
        "",
        "A **tokenbench** cell says `rejected k/n` with the status and `code` the service answered, "
        "`refused at start-up` (the start-up messages are listed per row below), `held` for a scenario or "
        "property that holds, `policy` where the outcome is a design decision, `n/a` with why (structurally "
        "impossible in the format, or not this deployment), or **ACCEPTED**. A **bare library** cell says "
        "how many of the row's variants the library's ordinary call accepted:",
        "",
        *[f"* {name.value}: `{ORDINARY_CALL[name]}`" for name in names],
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
        "| bare library accepted at least one variant | "
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
                + " | ".join(_escape(service_text(c)) for c in cells)
                + " | "
                + " | ".join(_escape(library_text(c)) for c in cells)
                + " |"
            )
    lines += ["", "## Variants", "", "What each row sent, and what came back, format by format.", ""]
    for attack in report.attacks:
        lines += _details(report, attack)
    lines += ["", READING_GUIDE.rstrip(), ""]
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
