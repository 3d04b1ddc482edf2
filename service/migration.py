"""The deployment's migration window: the issued format and ``TOKENBENCH_ACCEPT_FORMATS`` (docs/migration.md).

:func:`load_window` builds the :class:`formats.migration.Migration` the app verifies with. Each accepted
format loads its own ring from ``KEYS_DIR/<format>/`` as a verify-only ring (no key of it ever issues),
with every rule of its format. Start-up is refused, with one line naming ``TOKENBENCH_ACCEPT_FORMATS``,
when an accepted format has no key files or a key file that does not load, and in production when a key
of an accepted format holds a private key the format does not need to verify (an asymmetric format: the
public key is enough, and a signing key of a format that no longer issues is only a liability).
Development never generates keys for an accepted format: a new key could not verify any old token.

:class:`SeenReporter` writes the log line an operator watches to see the old format drain.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

from formats import FORMATS, Clock, FormatName, KeyConfigError, TokenFormat
from formats.keys import list_key_files, read_key_text, refuse_shared_key_material
from formats.migration import Migration, Seen
from service.background import stop_task
from service.keyring import load_format
from service.settings import Environment, Settings, SettingsError

__all__ = ["REPORT_INTERVAL", "SeenReporter", "load_accepted", "load_window"]

logger = logging.getLogger("tokenbench")

REPORT_INTERVAL: Final = 60.0
"""Seconds between two log lines about the accepted formats (a line only when something changed)."""

_VARIABLE: Final = "TOKENBENCH_ACCEPT_FORMATS"


def load_accepted(settings: Settings, name: FormatName, *, clock: Clock) -> TokenFormat:
    """The verify-only ring of the accepted format ``name``; SettingsError naming the variable if unusable."""
    directory = settings.keys_dir / name.value
    try:
        ring = FORMATS[name].load_verify_only(settings.keys_dir, policy=settings.policy, clock=clock)
        refuse_shared_key_material(settings.keys_dir, name)
        files = list_key_files(settings.keys_dir, name)
    except KeyConfigError as exc:
        raise SettingsError(_VARIABLE, f"{name.value}: {exc}") from exc
    if ring.well_known():  # asymmetric: the public keys verify, a private key is not needed
        cls = FORMATS[name]
        private = [f.path for f in files if cls.key_material_of(read_key_text(f.path), source=str(f.path))]
        if private and settings.env is Environment.PRODUCTION:
            raise SettingsError(
                _VARIABLE,
                f"{name.value}: {private[0]} holds a private key, and an accepted format only verifies; "
                "in production replace each such file with its public key "
                f"(`tokenbench keys public --format {name.value}`)",
            )
        if private:
            logger.warning(
                "%s: %d key file(s) hold a private key that an accepted format does not need "
                "(production refuses them; `tokenbench keys public --format %s`)",
                directory,
                len(private),
                name.value,
            )
    return ring


def load_window(settings: Settings, *, clock: Clock) -> Migration:
    """The issued format (its ring as :func:`service.keyring.load_format` loads it) and the accepted ones.

    The accepted rings are checked first, so a refused window writes no development key.
    """
    accepted = [load_accepted(settings, name, clock=clock) for name in settings.accept_formats]
    issued = load_format(settings, clock=clock)
    return Migration(issued, accepted, clock=clock)


def describe(seen: Seen) -> str:
    """``access 12, refresh 3, last 2026-12-02T07:10:00Z`` (or ``none yet``)."""
    if seen.last is None:
        return "none yet"
    return f"access {seen.access}, refresh {seen.refresh}, last {seen.last.strftime('%Y-%m-%dT%H:%M:%SZ')}"


class SeenReporter:
    """Logs how many tokens of each accepted format this process verified, when that changed."""

    def __init__(self, window: Migration, *, interval: float = REPORT_INTERVAL) -> None:
        self._window = window
        self._interval = interval
        self._last: dict[FormatName, Seen] = {}
        self._task: asyncio.Task[None] | None = None

    def started(self) -> str:
        """The line logged when the app starts."""
        accepted = ", ".join(f"{fmt.name.value} ({len(fmt.kids)} key(s))" for fmt in self._window.accepted)
        return f"issuing {self._window.name.value}; still accepting {accepted} (verify only)"

    def report(self) -> str | None:
        """The line to log now, or None if nothing changed since the last one."""
        seen = dict(self._window.seen())
        if seen == self._last:
            return None
        self._last = seen
        parts = "; ".join(f"{name.value}: {describe(counts)}" for name, counts in seen.items())
        return f"tokens of accepted formats verified by this process: {parts}"

    async def run(self) -> None:
        """Log :meth:`report` every ``interval`` seconds until cancelled."""
        while True:
            await asyncio.sleep(self._interval)
            line = self.report()
            if line is not None:
                logger.info("%s", line)

    async def start(self) -> None:
        """Log the window and start :meth:`run` (app start-up)."""
        logger.info("%s", self.started())
        self._task = asyncio.get_running_loop().create_task(self.run(), name="tokenbench-accepted-formats")

    async def stop(self) -> None:
        """Cancel the background task (app shutdown)."""
        await stop_task(self._task)
        self._task = None
