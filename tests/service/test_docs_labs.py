"""``docs/labs.md`` is true: ``docs/examples/labs.sh`` runs every lab against ``tokenbench serve`` on the
format the lab names, gets the outcome the page describes, and the page shows exactly the script's
commands."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.service.test_docs_tutorial import require_tools

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "docs" / "examples" / "labs.sh"
PAGE = ROOT / "docs" / "labs.md"
GRACE = 2
RELOAD = 1


def run_lab(lab: str, server, work: Path) -> str:
    result = subprocess.run(
        ["bash", str(SCRIPT), lab, server.url],
        env={
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "ALICE_PASSWORD": server.demo_passwords()["alice"],
            "GRACE_WAIT": str(GRACE + 1),
            "LAB_DIR": str(work / "lab"),
            "TOKENBENCH_KEYS_DIR": str(work / "keys"),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def commands(text: str) -> list[str]:
    return [
        re.sub(r"^\$ sleep \d+$", "$ sleep N", line) for line in text.splitlines() if line.startswith("$ ")
    ]


def codes(text: str) -> list[str]:
    return re.findall(r'"code":"(\w+)"', text)


def test_labs_run_as_written(serve, tmp_path: Path) -> None:
    require_tools()
    env = {"TOKENBENCH_REFRESH_GRACE": str(GRACE), "TOKENBENCH_KEYS_RELOAD": str(RELOAD)}
    ran: list[str] = []

    jwt = serve("jwt-hs256", "--demo", env=env)
    out = run_lab("alg-none", jwt, tmp_path)
    assert codes(out) == ["token_malformed"]
    ran += commands(out)
    out = run_lab("replay", jwt, tmp_path)
    assert re.findall(r"^(200|HTTP/1.1 \d+)", out, re.MULTILINE) == [
        "200",
        "200",
        "HTTP/1.1 401",
        "HTTP/1.1 401",
    ]
    assert codes(out) == ["token_revoked", "token_revoked"]
    ran += commands(out)
    out = run_lab("rotate-before", jwt, tmp_path)
    assert "active\nverify-only" in out
    ran += commands(out)
    time.sleep(RELOAD + 1.5)  # no restart: the running service re-reads its key directory
    restarted = jwt
    out = run_lab("rotate-after", restarted, tmp_path)
    assert re.search(r"^200$", out, re.MULTILINE)
    old_kid, new_kid = re.findall(r"^key id\s+(\S+)$", out, re.MULTILINE)
    assert old_kid != new_kid
    ran += commands(out)
    out = run_lab("read-jwt", restarted, tmp_path)
    assert '"sub": "alice"' in out
    ran += commands(out)
    restarted.stop()

    local = serve("paseto-v4-local", "--demo", env=env)
    out = run_lab("tamper-local", local, tmp_path / "local")
    assert "claims      encrypted" in out
    assert codes(out) == ["token_bad_signature", "token_unknown_key"]
    ran += commands(out)

    documented = commands(PAGE.read_text())
    assert sorted(set(ran)) == sorted(set(documented))
