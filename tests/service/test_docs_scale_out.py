"""``docs/scale-out.md`` says what the code does: the refusal line, the default delay, the example code and
the wording of the runbook's commands are today's."""

from __future__ import annotations

import re
from pathlib import Path

from service.keyring import default_activation_delay
from service.verifier import symmetric_refusal

ROOT = Path(__file__).parents[2]
PAGE = (ROOT / "docs" / "scale-out.md").read_text(encoding="utf-8")


def test_the_refusal_shown_is_the_one_serve_prints() -> None:
    assert f"tokenbench: error: --verify-only: {symmetric_refusal('jwt-hs256')}\n" in PAGE


def test_the_default_delay_shown_is_the_one_rotate_uses() -> None:
    assert "**3 \N{MULTIPLICATION SIGN} `TOKENBENCH_KEYS_RELOAD` + 5 seconds** (35 s by default)" in PAGE
    assert default_activation_delay(10) == 35
    assert "(in 35 s)" in PAGE


def test_the_python_snippet_is_taken_from_the_example_that_a_test_runs() -> None:
    example = (ROOT / "docs" / "examples" / "resource_server.py").read_text(encoding="utf-8")
    (snippet,) = re.findall(r"```python\n(.*?)```", PAGE, re.DOTALL)
    for line in snippet.splitlines():
        code = line.split("#")[0].strip()
        if code:
            assert code in example, code


def test_the_runbook_output_has_the_wording_of_the_commands() -> None:
    source = (ROOT / "service" / "commands" / "keys.py").read_text(encoding="utf-8")
    for phrase in (
        "verifies at once and signs from",
        "signs now;",
        "every process refuses its tokens",
    ):
        assert phrase in PAGE
        assert phrase in source
    listed = re.findall(
        r"^jwt-es256\t\S+\t(next|active|verify-only)\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\t", PAGE, re.M
    )
    assert set(listed) == {"next", "active", "verify-only"}
