"""The token format of a deployment, with its key ring read from ``TOKENBENCH_KEYS_DIR`` and kept current.

``development`` writes a first key when the ring is empty (and says so); ``production`` refuses to start
without one, and refuses key files that group or others can read. Unusable key files are refused at
start-up in both, with the message :mod:`formats` gives (it names the file and the fix).

A running process re-reads the directory every ``TOKENBENCH_KEYS_RELOAD`` seconds (:class:`KeyReloader`,
a background task of the app, never a look on the request path): a stat of each key file, and a parse only
when something changed. A new file that does not load (in production: also one others can read) is logged
once and ignored; the running ring keeps serving until the directory is fixed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

from formats import Clock, KeyConfigError, TokenFormat, load
from formats.keys import (
    generate_key_file,
    key_directory_signature,
    list_key_files,
    refuse_shared_key_material,
)
from service.background import stop_task
from service.private_files import readable_by_others, refusal
from service.settings import Environment, Settings

__all__ = [
    "ACTIVATION_MARGIN",
    "KeyReloader",
    "check_key_file_modes",
    "default_activation_delay",
    "ensure_keys",
    "load_format",
]

logger = logging.getLogger("tokenbench")

ACTIVATION_MARGIN: Final = 5
"""Seconds added to the default activation delay for a slow fetch of the key document and clock skew."""


def default_activation_delay(keys_reload: int) -> int:
    """How long ``keys rotate`` waits by default before the new key signs, for ``TOKENBENCH_KEYS_RELOAD``.

    One reload interval for every issuing process to read the new file, one more for every verifier's
    cached key document to expire (issuers send ``max-age`` = the reload interval), a third as margin for
    a reload that ran just before the file appeared, plus :data:`ACTIVATION_MARGIN` seconds.
    """
    return 3 * keys_reload + ACTIVATION_MARGIN


def ensure_keys(settings: Settings) -> None:
    """Generate the first key of an empty ring in development; raise KeyConfigError in production."""
    if list_key_files(settings.keys_dir, settings.format):
        return
    directory = settings.keys_dir / settings.format.value
    if settings.env is Environment.PRODUCTION:
        raise KeyConfigError(
            f"{directory}: no keys and TOKENBENCH_ENV=production; "
            f"run `tokenbench keys generate --format {settings.format.value}` first"
        )
    key = generate_key_file(settings.keys_dir, settings.format)
    logger.warning(
        "no %s keys in %s: generated %s (development only; production refuses to start without keys)",
        settings.format.value,
        directory,
        key.kid,
    )


def check_key_file_modes(settings: Settings) -> None:
    """In production, refuse key files that group or others can read (naming them and the ``chmod``)."""
    if settings.env is not Environment.PRODUCTION:
        return
    exposed = readable_by_others(key.path for key in list_key_files(settings.keys_dir, settings.format))
    if exposed:
        raise KeyConfigError(refusal(exposed, "key files are"))


def load_format(settings: Settings, *, clock: Clock) -> TokenFormat:
    """The configured format with its key ring, the claim policy of ``settings`` and ``clock``."""
    ensure_keys(settings)
    check_key_file_modes(settings)
    return load(settings.format, settings.keys_dir, policy=settings.policy, clock=clock)


class KeyReloader:
    """Keeps ``fmt`` in step with the key directory of ``settings``, checked every ``keys_reload`` seconds."""

    def __init__(self, fmt: TokenFormat, settings: Settings) -> None:
        self._fmt = fmt
        self._settings = settings
        self._signature = key_directory_signature(settings.keys_dir, settings.format)
        self._task: asyncio.Task[None] | None = None

    def check(self) -> bool:
        """Reload if the directory changed; True if the ring was replaced. Never raises for bad keys."""
        signature = key_directory_signature(self._settings.keys_dir, self._settings.format)
        if signature == self._signature:
            return False
        self._signature = signature  # a bad state is logged once, not every interval
        directory = self._settings.keys_dir / self._settings.format.value
        try:
            refuse_shared_key_material(self._settings.keys_dir, self._settings.format)
            check_key_file_modes(self._settings)
            self._fmt.reload(self._settings.keys_dir)
        except (KeyConfigError, OSError) as exc:
            logger.error(  # noqa: TRY400 - one line; the message names the file and the fix
                "key directory %s changed but does not load, still serving the old ring: %s", directory, exc
            )
            return False
        logger.info(
            "reloaded %s: active %s, %d key(s) verify", directory, self._fmt.active_kid, len(self._fmt.kids)
        )
        return True

    async def run(self) -> None:
        """Check every ``keys_reload`` seconds until cancelled."""
        while True:
            await asyncio.sleep(self._settings.keys_reload)
            self.check()

    async def start(self) -> None:
        """Start :meth:`run` as a background task of the running loop (app start-up)."""
        self._task = asyncio.get_running_loop().create_task(self.run(), name="tokenbench-key-reload")

    async def stop(self) -> None:
        """Cancel the background task (app shutdown)."""
        await stop_task(self._task)
        self._task = None
