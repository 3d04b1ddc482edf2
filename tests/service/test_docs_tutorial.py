"""``docs/tutorial.md`` is true: ``docs/examples/tutorial.sh`` runs green against ``tokenbench serve`` for
every format, and the page shows exactly the script's commands with the statuses and codes it gets."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "docs" / "examples" / "tutorial.sh"
PAGE = ROOT / "docs" / "tutorial.md"
OUTCOME = re.compile(r'^(\$ .*|HTTP/1\.1 \d{3}.*|\d{3}|same successor|.*"code":"\w+".*)$')


def outline(text: str) -> list[str]:
    """Commands, statuses and error codes, in order; sleeps normalised (the test waits less)."""
    lines = []
    for line in text.splitlines():
        if not OUTCOME.match(line):
            continue
        code = re.search(r'"code":"(\w+)"', line)
        shown = f"code {code.group(1)}" if code and not line.startswith("$") else line
        lines.append(re.sub(r"^\$ sleep \d+$", "$ sleep N", shown))
    return lines


def require_tools() -> None:
    missing = [tool for tool in ("bash", "curl", "jq") if shutil.which(tool) is None]
    if not missing:
        return
    message = f"the tutorial needs {', '.join(missing)} (apt-get install -y curl jq)"
    if os.environ.get("CI"):
        pytest.fail(f"CI is set, so this does not skip: {message}")
    pytest.skip(message)


def test_the_tutorial_runs_as_written_on_every_format(serve, format_name) -> None:
    require_tools()
    server = serve(format_name.value, "--demo", env={"TOKENBENCH_REFRESH_GRACE": "2"})
    result = subprocess.run(
        ["bash", str(SCRIPT), server.url],
        env={
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",  # tokenbench
            "ALICE_PASSWORD": server.demo_passwords()["alice"],
            "GRACE_WAIT": "3",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    ran = outline(result.stdout)
    assert ran == outline(PAGE.read_text())
    assert f'"{format_name.value}"' in result.stdout
    assert "same successor" in ran
