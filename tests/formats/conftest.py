"""Fixtures of the formats suite: a format whose key text the test also holds, and a forger for that key."""

from __future__ import annotations

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
