"""Start-up attacks: start the service with a bad configuration and record how it refuses.

"Start" is what ``tokenbench serve`` does before its workers run, done in-process: read the settings from
an environment mapping (:meth:`Settings.from_env`), build the app (:func:`service.app.create_app`, which
loads and checks the key ring) and run its start-up hooks. A refusal is a ``SettingsError`` or
``KeyConfigError``; the message is recorded exactly as the CLI prints it (``tokenbench: error: ...``),
with the temporary key directory written as ``$TOKENBENCH_KEYS_DIR``. Anything else is a crash, and a
service that starts is an attack that got through.

Each case runs in ``TOKENBENCH_ENV=production`` on its own temporary key directory and SQLite file, so
development's "generate a key if none" never masks a bad key.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path
from typing import Final

from litestar.testing import TestClient

from formats import KeyConfigError
from formats.keys import generate_key_file
from service.app import create_app
from service.attacks.model import LibraryObservation, Observation, Outcome, StartupCase, Verdict
from service.settings import Settings, SettingsError

__all__ = ["KEYS_DIR_TOKEN", "library_startup", "start_case"]

KEYS_DIR_TOKEN: Final = "$TOKENBENCH_KEYS_DIR"  # noqa: S105 - a placeholder in messages, not a secret


def _write(keys_dir: Path, relative: str, text: str) -> None:
    path = keys_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    os.chmod(path, 0o600)


def start_case(case: StartupCase) -> Observation:
    """Start the service with ``case``'s key files and settings; REFUSED with the message, or not."""
    with tempfile.TemporaryDirectory(prefix="tokenbench-startup-") as tmp:
        work = Path(tmp)
        keys_dir = work / "keys"
        keys_dir.mkdir(mode=0o700)
        if case.with_valid_key:
            generate_key_file(keys_dir, case.format)
        for relative, text in case.files.items():
            _write(keys_dir, relative, text)
        environ = {
            "TOKENBENCH_FORMAT": case.format.value,
            "TOKENBENCH_ENV": "production",
            "TOKENBENCH_ISSUER": "https://tokenbench.test",
            "TOKENBENCH_AUDIENCE": "tokenbench.test",
            "TOKENBENCH_KEYS_DIR": str(keys_dir),
            "TOKENBENCH_DATABASE_URL": f"sqlite+aiosqlite:///{work / 'tokenbench.db'}",
            **case.env,
        }
        try:
            app = create_app(Settings.from_env(environ))
            with TestClient(app):
                pass
        except (SettingsError, KeyConfigError) as exc:
            message = f"tokenbench: error: {exc}".replace(str(keys_dir), KEYS_DIR_TOKEN)
            return Observation(case.variant, Outcome.REFUSED, message, "refuses to start")
        except Exception as exc:  # noqa: BLE001 - a crash without a clear message is itself the finding
            return Observation(
                case.variant, Outcome.ERROR, f"crashed: {type(exc).__name__}: {exc}", "refuses to start"
            )
    return Observation(case.variant, Outcome.ACCEPTED, "the service started", "refuses to start")


def library_startup(case: StartupCase) -> LibraryObservation | None:
    """The bare library given the same bad key or setting: does it sign and verify with it?"""
    if case.library is None or case.library_expect is None:
        return None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            case.library()
        except Exception as exc:  # noqa: BLE001 - whatever the library raises is its verdict
            return LibraryObservation(case.variant, Verdict.REJECTS, type(exc).__name__, case.library_expect)
    names = sorted({w.category.__name__ for w in caught})
    detail = "used it" + (f" (warned: {', '.join(names)})" if names else "")
    return LibraryObservation(case.variant, Verdict.ACCEPTS, detail, case.library_expect)
