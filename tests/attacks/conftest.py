"""The attack suite, run once per test session against every format (in-process, temporary storage)."""

from __future__ import annotations

import pytest

from formats import FormatName
from service.attacks.matrix import Report
from service.attacks.suite import run_in_process


@pytest.fixture(scope="session")
def attack_report() -> Report:
    """Every attack against every format: one in-process service per format, about ten seconds in all."""
    return run_in_process(list(FormatName))
