"""The token format of a deployment, with its key ring read from ``TOKENBENCH_KEYS_DIR``.

``development`` writes a first key when the ring is empty (and says so); ``production`` refuses to start
without one, and refuses key files that group or others can read. Unusable key files are refused in both,
with the message :mod:`formats` gives (it names the file and the fix).
"""

from __future__ import annotations

import logging

from formats import Clock, KeyConfigError, TokenFormat, load
from formats.keys import generate_key_file, list_key_files
from service.private_files import readable_by_others, refusal
from service.settings import Environment, Settings

__all__ = ["check_key_file_modes", "ensure_keys", "load_format"]

logger = logging.getLogger("tokenbench")


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
