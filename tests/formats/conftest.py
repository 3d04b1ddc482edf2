"""Fixtures of the formats suite: a format whose key text the test also holds, and a forger for that key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from formats import FORMATS, ClaimPolicy, Clock, FormatName, TokenFormat
from tests.formats.rawtokens import Forger


@pytest.fixture
def ring_key(format_name: FormatName) -> str:
    """A fresh secret key of ``format_name`` as key-file text (JWK or PASERK)."""
    return FORMATS[format_name].generate_key_text()


@pytest.fixture
def ring_fmt(format_name: FormatName, ring_key: str, policy: ClaimPolicy, clock: Clock) -> TokenFormat:
    """The format with ``ring_key`` as its only (active) key, the test policy and the fixed clock."""
    return FORMATS[format_name].from_key_texts([("ring_key", ring_key)], policy=policy, clock=clock)


@pytest.fixture
def forger(format_name: FormatName, ring_key: str) -> Forger:
    """Signs or encrypts arbitrary payloads with ``ring_key``."""
    return Forger(format_name, ring_key)


@pytest.fixture
def write_key_file(tmp_path: Path) -> Callable[[FormatName, str], Path]:
    """Writes key text as the next (newest, so active) key file of a format under ``tmp_path``."""
    written: list[Path] = []

    def write(name: FormatName, text: str) -> Path:
        directory = tmp_path / name.value
        directory.mkdir(exist_ok=True)
        path = directory / f"20260101T0000{len(written):02d}000000Z-test{FORMATS[name].key_file_suffix}"
        path.write_text(text, encoding="utf-8")
        written.append(path)
        return path

    return write
