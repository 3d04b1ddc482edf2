"""The docs stand on their own: they cite files of the repository only, their ``tokenbench`` commands work
as written after ``make run`` (spelled ``.venv/bin/tokenbench``, parsed by the real command line), every
``make`` target they show exists, a page they name is a link, every link to a section finds its heading,
and every time, rate or ratio in their prose is in the benchmark report or names the measurement it comes
from. Generated pages (the matrix, the benchmark report) are checked by their own tests.
"""

from __future__ import annotations

import importlib.util
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


# --- make targets, links and anchors ---------------------------------------------------------------------

MAKEFILE_TARGETS = set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M))
CODE = re.compile(r"```.*?```|`[^`\n]+`", re.S)
"""Code blocks and code spans: where a page shows a command."""


def make_targets(page: Path) -> list[str]:
    """Every ``make X`` a page shows as a command (in code, so that prose like "make sure" is not one)."""
    text = page.read_text(encoding="utf-8")
    return [t for code in CODE.findall(text) for t in re.findall(r"(?<![\w-])make ([a-z][a-z-]*)", code)]


def test_the_make_check_sees_the_targets() -> None:
    assert {"run", "test", "attacks", "bench", "examples-js"} <= MAKEFILE_TARGETS
    assert "run" in make_targets(ROOT / "README.md")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_make_target_a_page_names_exists(page: Path) -> None:
    missing = sorted({t for t in make_targets(page) if t not in MAKEFILE_TARGETS})
    assert missing == [], f"{page.name} names make targets the Makefile lacks: {missing}"


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """The anchors of a page's headings (outside code blocks), with GitHub's -1, -2 for repeats."""
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    seen: dict[str, int] = {}
    found = set()
    for heading in re.findall(r"^#{1,6} (.+)$", text, re.M):
        base = slug(heading)
        found.add(f"{base}-{seen[base]}" if base in seen else base)
        seen[base] = seen.get(base, 0) + 1
    return found


def test_anchors_follow_github() -> None:
    assert slug("Accounts: the user's current state decides") == "accounts-the-users-current-state-decides"
    assert slug("### `jwt-eddsa`".lstrip("# ")) == "jwt-eddsa"
    assert slug("Why 401, not 403, for a bad token") == "why-401-not-403-for-a-bad-token"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_link_to_a_section_finds_the_section(page: Path) -> None:
    text = CODE.sub("", page.read_text(encoding="utf-8"))
    broken = []
    for target, anchor in re.findall(r"\]\(([^)#\s]*)#([^)\s]+)\)", text):
        if target.startswith(("http://", "https://")):
            continue
        linked = (page.parent / target) if target else page
        if linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target}#{anchor}")
    assert broken == [], f"{page.name} links to sections that do not exist: {broken}"


# --- figures in prose ------------------------------------------------------------------------------------

REPORT = ROOT / "docs" / "benchmarks.md"
FIGURE = re.compile(
    r"(?<![\w.,/-])(\d[\d,]*(?:\.\d+)?)(?:\s?[-\u2013]\s?(\d[\d,]*(?:\.\d+)?))?"
    r"(?:\s?(µs|ms|req/s|bytes)\b|([\u00d7x])(?!\w))"
)
"""A time, a rate, a size or a ratio: ``72 µs``, ``1.6-1.9 ms``, ``3,267 req/s``, ``445 bytes``, ``1.86x``."""
GENERATED_BLOCK = re.compile(r"<!-- (BEGIN[^>]*|[a-z ]+) -->.*?<!-- (END[^>]*|/[a-z ]+) -->", re.S)
MEASURED_ELSEWHERE: dict[str, dict[str, str]] = {
    "operations.md": {
        "figures": "1036 0.76 1.86 1053 722 2286 1107 1.47 2.17 0.86 1.53 1060 25903 24.4 727 22951 1.39 "
        "31.6 222 34 211 83 271 100 1.34 1925",
        "source": "`make bench-flood` (benchmarks/login_flood.py), runs of 2 December 2026 tabled with their "
        "method on the page; the CPU of one failed argon2 check, measured for the equal-cost change "
        "(design.md section 14); 100-500 ms is advice, not a measurement",
    },
    "scale-out.md": {
        "figures": "4.6 31 27.5 1.9 5.5 100 10 1.1 0.91 1.33 132 1.7 2.3",
        "source": "`python -m benchmarks.refresh_stores --seconds 4`, tabled with its method on the page; "
        "10x and 1.1x are its targets; 100 ms is SQLite's busy-handler sleep",
    },
    "formats.md": {
        "figures": "82 61 36 190 154 70 30 84",
        "source": "where the bytes go, counted in the example tokens of the page's generated section "
        "(docs/examples/formats_anatomy.py, tests/formats/test_docs_formats.py); 84 is what the "
        "benchmark's iss and aud add, the report's size tables (benchmarks/sizes.py)",
    },
    "design.md": {
        "figures": "100 9.5 1.1 34 222 3.6 2.9 4.9 3.1 3.0 2.8 1.08 0.80",
        "source": "the login-flood and argon2 measurements behind sections 14 (operations.md tables them); "
        "100 ms is SQLite's busy-handler sleep; the refresh CPU per request before and after the rotation "
        "read the user itself (`.venv/bin/python -m benchmarks.refresh_stores --stores sqlite`, three "
        "interleaved pairs, stated with their method on the page); section 22: "
        "`benchmarks/per_request.py --callgrind` on the commits before and after the change (service.md "
        "tables it)",
    },
    "service.md": {
        "figures": "5.9 9.2 1.08 0.80 1.00 2.12 2.65",
        "source": "`python -m benchmarks.per_request` (the handler copy, two runs) and its `--callgrind` "
        "mode on the commits before and after the per-request change, 2 December 2026",
    },
}
"""Figures a page states that the benchmark report does not contain, each with the measurement it comes
from. A figure not in the report and not listed here fails: take it from the report or link the report."""
SPEC_SIZES = {"32", "64"}
"""Sizes the specifications fix, not measurements: 32-byte keys, MAC tags and nonces, 64-byte signatures."""


def prose_figures(page: Path) -> list[str]:
    """Every time, rate, size and ratio in a page's prose and tables, code and generated blocks left out."""
    text = GENERATED_BLOCK.sub("", CODE.sub("", page.read_text(encoding="utf-8")))
    figures = []
    for low, high, _unit, _ratio in FIGURE.findall(text):
        figures += [low, high] if high else [low]
    return figures


def report_numbers() -> set[str]:
    return set(re.findall(r"\d[\d,]*(?:\.\d+)?", REPORT.read_text(encoding="utf-8")))


def test_the_figure_check_finds_figures() -> None:
    found = FIGURE.findall(
        "a login costs 259-341 ms, verify 72.4 µs, 3,267 req/s, 445 bytes, 1.86x, 27\u00d7; 2.x is a version"
    )
    assert [(low, high) for low, high, *_ in found] == [
        ("259", "341"),
        ("72.4", ""),
        ("3,267", ""),
        ("445", ""),
        ("1.86", ""),
        ("27", ""),
    ]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_figure_in_prose_comes_from_a_measurement(page: Path) -> None:
    listed = set(MEASURED_ELSEWHERE.get(page.name, {}).get("figures", "").split())
    sourced = report_numbers() | listed | SPEC_SIZES
    unsourced = sorted({figure for figure in prose_figures(page) if figure not in sourced})
    assert unsourced == [], (
        f"{page.name} states {unsourced}, which docs/benchmarks.md does not contain: take the figure from "
        "the report, link the report instead, or list its measurement in MEASURED_ELSEWHERE"
    )


# --- python commands -------------------------------------------------------------------------------------


def python_commands(page: Path) -> list[tuple[bool, str, str]]:
    """(spelled with .venv/bin/, "-m" or "", module or script) of every python command a page shows."""
    found = []
    for code in CODE.findall(page.read_text(encoding="utf-8")):
        pattern = r"(?<![\w/.-])(\.venv/bin/)?python3? (-m )?([\w./-]+)"
        found += [(bool(venv), module.strip(), target) for venv, module, target in re.findall(pattern, code)]
    return found


def test_the_python_check_sees_the_examples() -> None:
    shown = python_commands(ROOT / "docs" / "verify-elsewhere.md")
    assert (True, "", "docs/examples/verify_pyjwt.py") in shown


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_python_command_runs_the_projects_python_on_something_that_exists(page: Path) -> None:
    for venv, module, target in python_commands(page):
        shown = f"python {module} {target}" if module else f"python {target}"
        assert venv, f"{page.name}: `{shown}` may run another python; write .venv/bin/python"
        if module:
            assert importlib.util.find_spec(target) is not None, f"{page.name}: no module {target}"
        else:
            assert (ROOT / target).exists(), f"{page.name}: no file {target}"
