"""The docs stand on their own: they cite files of the repository only, their ``tokenbench`` commands work
as written after ``make run`` (spelled ``.venv/bin/tokenbench``, parsed by the real command line), and a
page they name is a link. Generated pages (the matrix, the benchmark report) are checked by their own tests.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from service.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
GENERATED = {"failure-modes.md", "benchmarks.md"}
PAGES = [ROOT / "README.md", *sorted(p for p in (ROOT / "docs").glob("*.md") if p.name not in GENERATED)]
OUTSIDE = re.compile(r"DESIGN\.md|\.\./shared|\bthe contract\b(?! suite)")
COMMAND = re.compile(
    r"(?<![\w/.-])(\.venv/bin/)?tokenbench ((?:serve|users|keys|inspect|attacks|bench)\b[^`\n#<]*)"
)
SUBCOMMANDS = {"users": 2, "keys": 2}
"""Commands whose second word is a subcommand too."""
PLACEHOLDERS = {"F": "paseto-v4-public", "$FORMAT": "paseto-v4-public", "$TOKEN": "eyJ.x.y"}
"""Words the docs use for "any value", and a value the command line accepts."""


def commands() -> list[tuple[str, str, bool]]:
    """(page, command line after ``tokenbench``, spelled with .venv/bin/) of every page.

    A command quoted inside the command line's own output (a ``tokenbench: error: ...`` line shown as
    it was printed) is the program's advice, not a command of the page.
    """
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in COMMAND.finditer(text):
            line = text[text.rfind("\n", 0, match.start()) + 1 : match.start()]
            if not line.startswith("tokenbench: "):
                found.append((page.name, match.group(2).strip(), match.group(1) is not None))
    return found


def test_the_checks_see_the_pages_and_their_commands() -> None:
    assert {p.name for p in PAGES} >= {"README.md", "design.md", "operations.md", "formats.md"}
    assert len(commands()) >= 20


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_cites_nothing_outside_the_repository(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert not OUTSIDE.findall(text), f"{page.name} points outside the repository; cite docs/design.md"
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
        if not target.startswith(("http://", "https://")):
            assert (page.parent / target).exists(), f"{page.name} links to {target}, which does not exist"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_a_page_named_in_prose_is_a_link(page: Path) -> None:
    # `docs/x.md` as code is a name, not a link: a reader cannot follow it.
    named = re.findall(r"(?<!\[)`(docs/[a-z-]+\.md)`", page.read_text(encoding="utf-8"))
    assert named == [], f"{page.name} names {named} as code; write [docs/x.md](docs/x.md)"


@pytest.mark.parametrize(("page", "line", "spelled"), commands(), ids=[f"{p}: {c}" for p, c, _ in commands()])
def test_every_tokenbench_command_works_as_written_after_make_run(
    page: str, line: str, spelled: bool
) -> None:
    assert spelled, f"{page}: `tokenbench {line}` is not on PATH after `make run`; write .venv/bin/tokenbench"
    words = line.split()
    depth = SUBCOMMANDS.get(words[0], 1)
    synopsis = any(c in line for c in "[]|") or "..." in line or "COMMAND" in line or len(words) < depth
    parser = build_parser()
    if len(words) < depth:  # a command group named in prose: it exists
        with pytest.raises(SystemExit) as shown:
            parser.parse_args([words[0], "--help"])
        assert shown.value.code == 0, f"{page}: tokenbench {words[0]}"
        return
    if synopsis:  # a synopsis (README): every command it names exists
        for name in words[depth - 1].split("|"):
            with pytest.raises(SystemExit) as shown:
                parser.parse_args([*words[: depth - 1], name, "--help"])
            assert shown.value.code == 0, f"{page}: tokenbench {' '.join(words[: depth - 1])} {name}"
        return
    argv = [PLACEHOLDERS.get(word, word) for word in shlex.split(line, posix=False)]
    argv = [PLACEHOLDERS.get(word.strip('"'), word.strip('"')) for word in argv]
    parser.parse_args(argv)  # argparse exits (status 2) on an unknown command or option
