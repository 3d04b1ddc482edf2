"""Run the catalog against one format: the service's column and the bare library's column.

Per format, in this order:

1. log in as the suite's user (sample tokens), read the well-known keys, read the key files if given
   (the leaked or co-issuer key), and check the harness with a control: an admin token minted with that
   key must be *accepted*, so every rejection below is the attack's doing and not a broken forger;
2. every attack's probes and property checks against the service;
3. every scenario (they move the service's clock, so they come after the probes);
4. every start-up case (in-process only: each starts its own service on its own key directory);
5. the bare library's column: the same builders, aimed at the library's ordinary call.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from formats import FormatName, Kind
from formats.keys import list_key_files
from service.attacks.context import ALG, Context, KeyMaterial, read_claims
from service.attacks.library import fresh_key, library_decode
from service.attacks.model import (
    Attack,
    CannotWaitError,
    LibraryObservation,
    NeedsKeyError,
    NeedsOperatorError,
    NotThisDeploymentError,
    Observation,
    Operator,
    Outcome,
    Probe,
    Profile,
)
from service.attacks.startup import library_startup, start_case
from service.attacks.target import ServiceTarget
from service.auth.roles import Role, permissions_of

__all__ = ["Cell", "HarnessError", "JkuListener", "read_active_key", "run_format"]


class HarnessError(RuntimeError):
    """The suite itself cannot attack this target (login failed, the control token was refused)."""


@dataclass(frozen=True, slots=True)
class Cell:
    """One (attack, format) cell: what the service did, what the bare library did, and why if neither ran."""

    attack: Attack
    format: FormatName
    service: tuple[Observation, ...] = ()
    library: tuple[LibraryObservation, ...] = ()
    not_this_deployment: str = ""


class JkuListener:
    """A loopback HTTP server that counts requests: the attacker's jku/x5u host (an SSRF canary)."""

    def __init__(self) -> None:
        hits = [0]

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits[0] += 1
                self.send_response(404)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                return

        self._hits = hits
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/.well-known/jwks.json"

    def hits(self) -> int:
        """Requests received so far."""
        return self._hits[0]

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()


def read_active_key(keys_dir: Path, name: FormatName) -> KeyMaterial:
    """The active key of ``name`` from its key files (what a leaked key directory gives an attacker)."""
    active = list_key_files(keys_dir, name)[-1]
    return KeyMaterial(name, active.kid, active.path.read_text(encoding="utf-8").strip())


def _issued_at(name: FormatName, claims: dict[str, Any] | None) -> datetime:
    if claims is None or "iat" not in claims:
        return datetime.now(UTC)
    iat = claims["iat"]
    if name in ALG:
        return datetime.fromtimestamp(int(iat), UTC)
    return datetime.fromisoformat(str(iat)).astimezone(UTC)


def service_context(
    name: FormatName,
    target: ServiceTarget,
    key: KeyMaterial | None,
    jku: JkuListener | None,
    username: str,
    *,
    operator: Operator | None = None,
) -> Context:
    """The attacker's view of the running service: a real login, its well-known keys, maybe its key."""
    session = target.login()
    claims = read_claims(name, session.access, key)
    refresh_claims = read_claims(name, session.refresh, key) or {}
    context = Context(
        format=name,
        profile=Profile.SERVICE,
        now=_issued_at(name, claims),
        subject=str((claims or {}).get("sub", username)),
        perms=permissions_of(Role.ADMIN),
        issuer=(claims or {}).get("iss"),
        audience=(claims or {}).get("aud"),
        key=key,
        public_jwks=target.well_known("jwks.json"),
        public_paserk=target.well_known("paserk.json"),
        samples={Kind.ACCESS: session.access, Kind.REFRESH: session.refresh},
        refresh_claims=refresh_claims,
        http=target,
        operator=operator,
    )
    if jku is not None:
        context.jku_url = jku.url
        context.jku_hits = jku.hits
    return context


def _control(context: Context, target: ServiceTarget) -> None:
    if context.key is None:
        return
    seen = target.attack(Probe("control", context.forge_claims(), code="-"))
    if seen.outcome is not Outcome.ACCEPTED:
        raise HarnessError(f"an admin token minted with the service's own key was refused: {seen.seen}")


def _probe_observations(attack: Attack, context: Context, target: ServiceTarget) -> Iterator[Observation]:
    assert attack.probes is not None
    try:
        probes = list(attack.probes(context))
    except NeedsKeyError as exc:
        yield Observation("every variant", Outcome.NOT_RUN, str(exc))
        return
    for probe in probes:
        if probe.only is not Profile.LIBRARY:
            yield target.attack(probe)


def _guarded(run: Iterable[Observation]) -> list[Observation]:
    """The observations of a check or scenario; the rest is "not run" if it needs what the run lacks."""
    seen: list[Observation] = []
    try:
        seen.extend(run)
    except (NeedsKeyError, NeedsOperatorError, CannotWaitError) as exc:
        seen.append(
            Observation("the remaining variants" if seen else "every variant", Outcome.NOT_RUN, str(exc))
        )
    return seen


def library_observations(attack: Attack, name: FormatName, key: KeyMaterial) -> list[LibraryObservation]:
    """The bare library's column of one cell: probes, library checks and start-up cases."""
    found: list[LibraryObservation] = []
    if attack.probes is not None:
        for probe in attack.probes(Context.for_library(name, key)):
            if probe.library is None or probe.only is Profile.SERVICE:
                continue
            verdict, detail = library_decode(key, probe.token)
            found.append(LibraryObservation(probe.variant, verdict, detail, probe.library))
    if attack.library_check is not None:
        found.extend(attack.library_check(name))
    if attack.startup is not None:
        for case in attack.startup(name):
            observed = library_startup(case)
            if observed is not None:
                found.append(observed)
    return found


@dataclass
class _Draft:
    service: list[Observation] = field(default_factory=list)
    not_this_deployment: str = ""


def run_format(
    name: FormatName,
    attacks: Sequence[Attack],
    *,
    target: ServiceTarget,
    username: str,
    key: KeyMaterial | None,
    jku: JkuListener | None = None,
    startup: bool = True,
    operator: Operator | None = None,
) -> dict[str, Cell]:
    """Every attack against one format; returns the cells by attack id."""
    context = service_context(name, target, key, jku, username, operator=operator)
    _control(context, target)
    drafts = {attack.id: _Draft() for attack in attacks}
    for attack in attacks:
        draft = drafts[attack.id]
        try:
            if attack.probes is not None:
                draft.service.extend(_probe_observations(attack, context, target))
            if attack.check is not None:
                draft.service.extend(_guarded(attack.check(context)))
        except NotThisDeploymentError as exc:
            draft.not_this_deployment = str(exc)
    for attack in attacks:
        if attack.scenario is not None:
            drafts[attack.id].service.extend(_guarded(attack.scenario(context)))
    for attack in attacks:
        if attack.startup is None:
            continue
        cases = list(attack.startup(name))
        misplaced = [case.variant for case in cases if case.format is not name]
        if misplaced:
            raise HarnessError(
                f"{attack.id}: start-up cases of another format in the {name} column: {misplaced}"
            )
        if startup:
            drafts[attack.id].service.extend(start_case(case) for case in cases)
        elif cases:
            drafts[attack.id].service.append(
                Observation(
                    "every variant", Outcome.NOT_RUN, "start-up attacks start the service: run without --url"
                )
            )
    library_key = key or fresh_key(name)
    return {
        attack.id: Cell(
            attack=attack,
            format=name,
            service=tuple(drafts[attack.id].service),
            library=tuple(library_observations(attack, name, library_key)),
            not_this_deployment=drafts[attack.id].not_this_deployment,
        )
        for attack in attacks
    }
