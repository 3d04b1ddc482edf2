"""The migration window's rows of the failure-mode matrix, run for every ordered pair of formats.

A switch (``TOKENBENCH_ACCEPT_FORMATS``, docs/migration.md) is a deployment in two formats at once, so it
gets attacks of its own. For each ordered pair ``old -> new`` the service runs in-process twice on one
database and one key directory, as an operator runs it: first issuing ``old`` (the suite's user logs in
and keeps its tokens), then issuing ``new`` while accepting ``old``. The rows are then sent to the second:

* ``MIGRATION-OLD-REFRESH-AS-ACCESS``: an old-format refresh token as bearer token, and an old-format
  access token as refresh cookie (kind binding across the switch);
* ``MIGRATION-FORMAT-NOT-ACCEPTED``: a valid token of every format that is neither issued nor accepted;
* ``MIGRATION-RELABELLED-TOKEN``: old-format tokens wearing the new format's label (the PASETO header or
  the JWS ``alg``), everything else kept;
* ``MIGRATION-OLD-REFRESH-REPLAY``: an old-format refresh token rotates into the new format, and replayed
  after the grace window revokes the family, its new-format successor included.

Every other row of the matrix still runs per format: the window adds these, it removes none.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from itertools import permutations
from pathlib import Path
from typing import Final

from litestar.testing import TestClient

from formats import Claims, FormatName, Kind, ephemeral
from formats.keys import generate_key_file, list_key_files
from formats.migration import public_key_text
from service.app import create_app
from service.attacks.contract import LABEL, label_of
from service.attacks.inprocess import BASE_URL, USERNAME, MovableClock, _create_user, deployment_environ
from service.attacks.model import (
    MALFORMED,
    REVOKED,
    UNKNOWN_KEY,
    WRONG_KIND,
    Observation,
    Outcome,
    Probe,
    Session,
    Via,
)
from service.attacks.target import ServiceTarget
from service.settings import Settings

__all__ = [
    "MIGRATION_ATTACKS",
    "MigrationAttack",
    "MigrationReport",
    "Window",
    "cell_text",
    "relabel",
    "render_section",
    "run_migration",
]


@dataclass(frozen=True, slots=True)
class Window:
    """What a row gets: the pair, the service issuing ``new`` and accepting ``old``, and old tokens."""

    old: FormatName
    new: FormatName
    target: ServiceTarget
    sessions: tuple[Session, ...]
    """Sessions started while ``old`` was issued, one per row that uses one up."""
    claims: Claims
    """Claims of the suite's user with the admin role, for tokens of formats outside the window."""


@dataclass(frozen=True, slots=True)
class MigrationAttack:
    """One row of the migration section: an id, what it is, and what it sends in one window."""

    id: str
    title: str
    run: Callable[[Window], Iterator[Observation]]


def relabel(token: str, source: FormatName, target: FormatName) -> str:
    """``token`` (of ``source``) wearing ``target``'s label; everything after the label is kept."""
    source_label, target_label = LABEL[source], LABEL[target]
    header = {"kid": "", "typ": "at+jwt"}
    if source_label.startswith("v"):  # PASETO: the label is the header
        body = token.removeprefix(source_label)
    else:  # JWS: the label is the alg inside the protected header
        segment, body = token.split(".", 1)
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    if target_label.startswith("v"):
        return target_label + body
    header["alg"] = target_label.removeprefix("alg:")
    spelled = base64.urlsafe_b64encode(json.dumps(header, separators=(",", ":")).encode()).rstrip(b"=")
    return f"{spelled.decode()}.{body}"


def _is_paseto(name: FormatName) -> bool:
    return LABEL[name].startswith("v")


def old_refresh_as_access(window: Window) -> Iterator[Observation]:
    """Kind binding across the switch: each kind of old-format token where the other kind belongs."""
    session = window.sessions[0]
    yield window.target.attack(
        Probe(f"a {window.old.value} refresh token as bearer token", session.refresh, WRONG_KIND)
    )
    yield window.target.attack(
        Probe(f"a {window.old.value} access token as refresh cookie", session.access, WRONG_KIND, Via.COOKIE)
    )


def format_not_accepted(window: Window) -> Iterator[Observation]:
    """A valid token (its own fresh key) of every format outside the window."""
    for other in FormatName:
        if other not in (window.old, window.new):
            token = ephemeral(other).issue(window.claims, kind=Kind.ACCESS)
            yield window.target.attack(Probe(f"a valid {other.value} access token", token, MALFORMED))


def relabelled(window: Window) -> Iterator[Observation]:
    """Old-format tokens with the new format's label.

    The new format's parser finds a key id its ring does not have (the old footer's, or the relabelled
    JWS header's), except for a JWS relabelled as PASETO, whose three segments are no PASETO body.
    """
    jws_as_paseto = not _is_paseto(window.old) and _is_paseto(window.new)
    code = MALFORMED if jws_as_paseto else UNKNOWN_KEY
    session = window.sessions[0]
    label = LABEL[window.new]
    yield window.target.attack(
        Probe(
            f"{window.old.value} access token labelled {label}",
            relabel(session.access, window.old, window.new),
            code,
        )
    )
    yield window.target.attack(
        Probe(
            f"{window.old.value} refresh token labelled {label}",
            relabel(session.refresh, window.old, window.new),
            code,
            Via.COOKIE,
        )
    )


def old_refresh_replay(window: Window) -> Iterator[Observation]:
    """An old refresh token rotates into the new format; replayed after the grace window it is theft."""
    target, old = window.target, window.sessions[1].refresh
    rotated = target.refresh(old)
    moved = rotated.status == 200 and rotated.refresh_token is not None
    new_label = LABEL[window.new]
    seen = f"{rotated.status}, successor labelled {label_of(rotated.refresh_token or '')}"
    yield Observation(
        f"rotate a {window.old.value} refresh token",
        Outcome.HELD if moved and label_of(rotated.refresh_token or "") == new_label else Outcome.ERROR,
        seen,
        f"200, successor labelled {new_label}",
    )
    target.advance(target.refresh_grace + 1)
    yield target.judge(
        f"replay the {window.old.value} token after the grace window", target.refresh(old), REVOKED
    )
    if rotated.refresh_token is not None:
        yield target.judge(
            f"its {window.new.value} successor afterwards", target.refresh(rotated.refresh_token), REVOKED
        )


MIGRATION_ATTACKS: Final = (
    MigrationAttack(
        "MIGRATION-OLD-REFRESH-AS-ACCESS",
        "An old-format refresh token as access token (and the reverse)",
        old_refresh_as_access,
    ),
    MigrationAttack(
        "MIGRATION-FORMAT-NOT-ACCEPTED",
        "A valid token of a format that is neither issued nor accepted",
        format_not_accepted,
    ),
    MigrationAttack(
        "MIGRATION-RELABELLED-TOKEN",
        "An old-format token re-labelled with the new format's prefix",
        relabelled,
    ),
    MigrationAttack(
        "MIGRATION-OLD-REFRESH-REPLAY",
        "An old-format refresh token replayed after it rotated into the new format",
        old_refresh_replay,
    ),
)


@dataclass(frozen=True, slots=True)
class MigrationReport:
    """Every (row, ordered pair) cell of the migration section."""

    pairs: tuple[tuple[FormatName, FormatName], ...]
    attacks: tuple[MigrationAttack, ...]
    cells: Mapping[tuple[str, FormatName, FormatName], tuple[Observation, ...]]

    @property
    def failed(self) -> bool:
        """An attack got through, or the service misbehaved, in some window."""
        return any(obs.outcome.failed for cell in self.cells.values() for obs in cell)


def _client(settings: Settings, clock: MovableClock) -> TestClient:  # type: ignore[type-arg]
    return TestClient(create_app(settings, clock=clock), base_url=BASE_URL, timeout=60)


def _keep_public_keys_only(keys_dir: Path, name: FormatName) -> None:
    """Replace each private key file of an asymmetric ``name`` by its public key (``keys public``)."""
    for key in list_key_files(keys_dir, name):
        text = key.path.read_text(encoding="utf-8").strip()
        public = public_key_text(name, text, source=str(key.path))
        if public is not None:
            key.path.write_text(public + "\n", encoding="utf-8")


def run_window(
    old: FormatName, new: FormatName, attacks: Sequence[MigrationAttack]
) -> dict[str, tuple[Observation, ...]]:
    """Run ``attacks`` against the service switched from ``old`` to ``new``, on temporary storage."""
    with tempfile.TemporaryDirectory(prefix=f"tokenbench-migration-{old.value}-{new.value}-") as tmp:
        work = Path(tmp)
        before = Settings.from_env(deployment_environ(old, work))
        generate_key_file(before.keys_dir, old)
        generate_key_file(before.keys_dir, new)
        password = secrets.token_urlsafe(16)
        asyncio.run(_create_user(before, USERNAME, password))
        clock = MovableClock()
        with _client(before, clock) as client:
            target = ServiceTarget(
                client, username=USERNAME, password=password, refresh_grace=before.refresh_grace
            )
            sessions = tuple(target.login() for _ in range(2))
        after = Settings.from_env({**deployment_environ(new, work), "TOKENBENCH_ACCEPT_FORMATS": old.value})
        with _client(after, clock) as client:
            target = ServiceTarget(
                client,
                username=USERNAME,
                password=password,
                refresh_grace=after.refresh_grace,
                shift=clock.advance,
            )
            now = clock()
            claims = Claims(
                sub=USERNAME,
                role="admin",
                iat=now,
                nbf=now,
                exp=now + timedelta(minutes=10),
                jti=secrets.token_urlsafe(16),
                iss=after.issuer,
                aud=after.audience,
            )
            window = Window(old=old, new=new, target=target, sessions=sessions, claims=claims)
            return {attack.id: tuple(attack.run(window)) for attack in attacks}


def run_migration(
    names: Sequence[FormatName], attacks: Sequence[MigrationAttack] = MIGRATION_ATTACKS
) -> MigrationReport:
    """Every ordered pair of ``names``: the switch from the first to the second, attacked."""
    pairs = tuple(permutations(names, 2))
    cells: dict[tuple[str, FormatName, FormatName], tuple[Observation, ...]] = {}
    for old, new in pairs:
        for attack_id, observations in run_window(old, new, attacks).items():
            cells[(attack_id, old, new)] = observations
    return MigrationReport(pairs=pairs, attacks=tuple(attacks), cells=cells)


def cell_text(observations: Sequence[Observation]) -> str:
    """``rejected 2/2 (401: token_wrong_kind)``, ``held 1/3``, or what got through."""
    total = len(observations)
    got = [obs for obs in observations if obs.outcome.failed]
    if got:
        return f"**{got[0].outcome.value}** {len(got)}/{total}: " + "; ".join(
            f"{o.variant} ({o.seen})" for o in got
        )
    wrong = [obs for obs in observations if obs.outcome is Outcome.UNEXPECTED]
    if wrong:
        return "unexpected: " + "; ".join(f"{o.seen} (expected {o.expected})" for o in wrong)
    parts = []
    rejected = [obs for obs in observations if obs.outcome is Outcome.REJECTED]
    if rejected:
        by_status: dict[str, set[str]] = {}
        for obs in rejected:
            status, _, code = obs.seen.partition(" ")
            by_status.setdefault(status, set()).add(code)
        codes = "; ".join(f"{status}: {', '.join(sorted(c))}" for status, c in sorted(by_status.items()))
        parts.append(f"rejected {len(rejected)}/{total} ({codes})")
    held = sum(1 for obs in observations if obs.outcome is Outcome.HELD)
    if held:
        parts.append(f"held {held}/{total}")
    return "; ".join(parts) or "not run"


def render_section(report: MigrationReport) -> list[str]:
    """The Markdown lines of the migration section: one row per ordered pair, one column per attack."""
    lines = [
        "## Migration window",
        "",
        "A switch with `TOKENBENCH_ACCEPT_FORMATS` ([migration.md](migration.md)): for each ordered pair "
        "the service ran issuing the old format (the suite's user logged in), then issuing the new one "
        "while accepting the old (an asymmetric old format with its public keys only), on the same "
        "database and keys; these rows were sent to the second. Each token is "
        "checked by the one format its label names, so a token of a format outside the window is "
        "malformed, and a relabelled token meets the other format's parser and keys.",
        "",
        *[f"* `{attack.id}`: {attack.title}." for attack in report.attacks],
        "",
        "| old → new | " + " | ".join(f"`{attack.id}`" for attack in report.attacks) + " |",
        "|---|" + "---|" * len(report.attacks),
    ]
    for old, new in report.pairs:
        cells = [cell_text(report.cells[(attack.id, old, new)]) for attack in report.attacks]
        lines.append(
            f"| {old.value} → {new.value} | " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"
        )
    return lines
