"""``docs/formats.md`` stays true: its generated section has exactly the shape of what
``docs/examples/formats_anatomy.py`` prints today, its example tokens are real, and every test it cites
exists."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from formats import FormatName
from formats.inspect import explain

ROOT = Path(__file__).parents[2]
PAGE = ROOT / "docs" / "formats.md"
SCRIPT = ROOT / "docs" / "examples" / "formats_anatomy.py"
BEGIN = "<!-- BEGIN output of docs/examples/formats_anatomy.py (do not edit by hand) -->"
END = "<!-- END output of docs/examples/formats_anatomy.py -->"
# Keys differ on every run; runs of 16+ base64url characters (tokens, key ids, coordinates) keep only
# their length, so the comparison is of shape: every size, name, claim and structure must match.
RANDOM_RUN = re.compile(r"[A-Za-z0-9_-]{16,}")
TOKEN = re.compile(
    r"^(?:v4\.(?:local|public)\.[A-Za-z0-9_.-]+|eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$", re.M
)


def shape(text: str) -> str:
    return RANDOM_RUN.sub(lambda m: f"<{len(m.group())} chars>", text.strip())


@pytest.fixture(scope="module")
def script_output() -> str:
    result = subprocess.run(
        [sys.executable, str(SCRIPT)], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    return result.stdout


@pytest.fixture(scope="module")
def generated_section() -> str:
    page = PAGE.read_text(encoding="utf-8")
    assert page.count(BEGIN) == page.count(END) == 1
    return page[page.index(BEGIN) + len(BEGIN) : page.index(END)]


def test_page_section_has_the_shape_of_the_example_script_output(
    script_output: str, generated_section: str
) -> None:
    assert shape(generated_section) == shape(script_output), (
        "docs/formats.md is out of date: run docs/examples/formats_anatomy.py and paste its output "
        "between the markers"
    )


def test_page_shows_one_real_access_token_of_every_format(generated_section: str) -> None:
    tokens = TOKEN.findall(generated_section)
    reports = [explain(token) for token in tokens]
    assert [r.format for r in reports] == list(FormatName)
    for token, report in zip(tokens, reports, strict=True):
        assert f"Access token, {report.total_bytes} bytes" in generated_section
        assert report.total_bytes == len(token)
        assert report.key_id is not None
        assert report.key_id in generated_section


def test_page_sizes_table_lists_every_format(generated_section: str) -> None:
    rows = re.findall(r"^\| `([a-z0-9-]+)` \| (\d+) \| (\d+) \|$", generated_section, re.M)
    assert [FormatName(name) for name, _, _ in rows] == list(FormatName)
    sizes = {FormatName(name): (int(access), int(refresh)) for name, access, refresh in rows}
    # Same header length (alg "EdDSA" and "ES256" are both five characters), same 64-byte signature.
    assert sizes[FormatName.JWT_EDDSA] == sizes[FormatName.JWT_ES256]
    # "v4.public." is one character longer than "v4.local."; body and footer are the same length.
    public, local = sizes[FormatName.PASETO_V4_PUBLIC], sizes[FormatName.PASETO_V4_LOCAL]
    assert (public[0] - local[0], public[1] - local[1]) == (1, 1)


def test_every_test_the_page_cites_exists() -> None:
    page = PAGE.read_text(encoding="utf-8")
    cited = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", page)
    bare = re.findall(r"`(test_\w+)`", page)
    assert len(cited) >= 10
    sources = {path: (ROOT / path).read_text(encoding="utf-8") for path, _ in cited}
    for path, name in cited:
        assert f"def {name}(" in sources[path], f"{path}::{name} cited by docs/formats.md does not exist"
    everything = "".join(
        (ROOT / "tests" / "formats").joinpath(p.name).read_text(encoding="utf-8")
        for p in (ROOT / "tests" / "formats").glob("test_*.py")
    )
    for name in bare:
        assert f"def {name}(" in everything, f"{name} cited by docs/formats.md does not exist"
