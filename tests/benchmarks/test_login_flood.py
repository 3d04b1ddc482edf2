"""``python -m benchmarks.login_flood --smoke``: the flood benchmark's every step, once, on a real server.

The numbers of a smoke run mean nothing; what is checked is that the run is what it says: the junk came
from several source addresses the server told apart (the per-address limit refused each of them once it
was past its limit, while the user's own logins from other addresses went through), and every login of
the user ended in a 200.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def test_login_flood_smoke_run_measures_the_user_beside_junk_from_other_addresses(tmp_path: Path) -> None:
    out = tmp_path / "flood.json"
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.login_flood", "--smoke", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "flood / alone:" in completed.stdout
    result = json.loads(out.read_text())
    assert len(result["alone"]["samples"]) == result["plan"]["alone_samples"]
    assert result["flood"]["samples"], "no login of the user while the junk was sent"
    assert set(result["junk_statuses"]) <= {"401", "429", "503"}, result["junk_statuses"]
    assert result["junk_statuses"].get("429", 0) > 0, "the per-address limit never refused the junk"
    assert result["junk_sent"] == round(result["plan"]["junk_rate"] * result["plan"]["flood_s"])
    assert result["median_ratio"] > 0
