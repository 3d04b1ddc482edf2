"""Static checks over the source tree (AST, nothing imported):

* ``formats/`` never imports ``service`` or ``litestar`` (docs/design.md: the format library has no web
  framework in it, ever);
* no code in ``formats/`` or ``service/`` passes a ``nonce`` to pyseto: pyseto lets a caller fix the
  v4.local nonce, and a fixed nonce reuses the XChaCha20 keystream (catalog PASETO-NONCE-MISUSE). Raw
  tokens with a chosen nonce are built by ``formats.forge``, never by pyseto. The one exception is the
  attack suite (``service/attacks/``), which shows the bare library accepting a caller's nonce;
* the fences (docs/design.md, "Layering"): only ``service/cli.py`` imports the attack suite and the
  benchmarks, and only their light ``cli`` modules, which import the rest inside the command function;
  nothing outside ``formats/`` and ``tests/`` imports a private ``formats._*`` module; the attack suite
  imports from ``formats`` only what an outside client would have (format names, kinds, the forger,
  key files), never the contract's strings, which it spells itself (``service/attacks/contract.py``).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
FORBIDDEN_IN_FORMATS = {"service", "litestar"}
PYSETO_METHODS = {"encode", "encrypt", "sign"}


def python_files(*packages: str) -> list[Path]:
    return sorted(p for package in packages for p in (ROOT / package).rglob("*.py"))


def imported_roots(tree: ast.AST) -> set[str]:
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_the_checks_see_the_source_tree() -> None:
    assert len(python_files("formats")) >= 15
    assert (ROOT / "formats" / "_paseto_common.py") in python_files("formats")


@pytest.mark.parametrize("path", python_files("formats"), ids=lambda p: str(p.relative_to(ROOT)))
def test_formats_module_imports_neither_service_nor_litestar(path: Path) -> None:
    roots = imported_roots(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    assert not roots & FORBIDDEN_IN_FORMATS, (
        f"{path.relative_to(ROOT)} imports {roots & FORBIDDEN_IN_FORMATS}"
    )


def pyseto_nonce_calls(source: str) -> list[int]:
    """Line numbers of calls that pass (or may pass) a nonce to pyseto."""
    tree = ast.parse(source)
    pyseto_names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            pyseto_names |= {
                a.asname or a.name.split(".")[0] for a in node.names if a.name.split(".")[0] == "pyseto"
            }
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "pyseto":
            pyseto_names |= {a.asname or a.name for a in node.names}
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        root = node.func
        while isinstance(root, ast.Attribute | ast.Call):
            root = root.value if isinstance(root, ast.Attribute) else root.func
        via_pyseto = isinstance(root, ast.Name) and root.id in pyseto_names
        method = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        keywords = {k.arg for k in node.keywords}
        if "nonce" in keywords and (via_pyseto or method in PYSETO_METHODS):
            lines.append(node.lineno)  # pyseto.encode(..., nonce=), key.encrypt(..., nonce=)
        elif via_pyseto and (None in keywords or (method == "encode" and len(node.args) > 4)):
            lines.append(node.lineno)  # **kwargs, or the nonce as pyseto.encode's fifth positional argument
    return lines


@pytest.mark.parametrize(
    "snippet",
    [
        "import pyseto\npyseto.encode(k, p, nonce=b'0' * 32)",
        "import pyseto as p\np.encode(k, m, b'', b'', b'0' * 32)",
        "from pyseto import encode as e\ne(k, m, **options)",
        "from pyseto import Paseto\nPaseto.new().encode(k, m, nonce=n)",
        "import pyseto\nkey = pyseto.Key.new(4, 'local', b'k')\nkey.encrypt(m, nonce=n)",
    ],
)
def test_nonce_check_catches_each_way_of_passing_a_nonce(snippet: str) -> None:
    assert pyseto_nonce_calls(snippet)


def test_nonce_check_leaves_decryption_and_forge_alone() -> None:
    legit = (
        "import pyseto\nfrom Cryptodome.Cipher import ChaCha20\n"
        "ChaCha20.new(key=k, nonce=n)\nforge.v4_local(k, p, nonce=n)\npyseto.encode(k, p, footer=f)"
    )
    assert pyseto_nonce_calls(legit) == []


# The attack suite demonstrates what the bare libraries accept (catalog PASETO-NONCE-MISUSE: pyseto takes a
# caller's nonce); it never issues tokens for the service, so it is the one place allowed to do this.
ATTACK_DEMONSTRATIONS = ROOT / "service" / "attacks"
ISSUING_CODE = [p for p in python_files("formats", "service") if ATTACK_DEMONSTRATIONS not in p.parents]


@pytest.mark.parametrize("path", ISSUING_CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_code_passes_a_nonce_to_pyseto(path: Path) -> None:
    assert pyseto_nonce_calls(path.read_text(encoding="utf-8")) == [], path.relative_to(ROOT)


# --- fences ------------------------------------------------------------------------------------------

FENCED = {"service.attacks": "service/attacks/", "benchmarks": "benchmarks/"}
"""Packages only the command line may load, and their directories."""
FENCE_GATE = "service/cli.py"
FLOORS_MAY_IMPORT_PRIVATE: frozenset[str] = frozenset()
"""Benchmark files allowed a private ``formats._*`` module: a floor that needs tokenbench's own primitive.
None does today; adding one is a decision to state in docs/design.md."""
ATTACK_SUITE_MAY_IMPORT: Mapping[str, frozenset[str]] = {
    "formats": frozenset({"FORMATS", "Claims", "FormatName", "KeyConfigError", "Kind", "ephemeral", "forge"}),
    "formats.keys": frozenset({"generate_key_file", "list_key_files"}),
    "formats.migration": frozenset({"public_key_text"}),
}
"""What the attack suite takes from ``formats``: names, kinds, the forger, key files, real tokens to
relabel. Error codes, ``typ`` values, implicit assertions, footers, labels and key ids it spells itself."""


@dataclass(frozen=True)
class Imported:
    """One module an import statement loads (``from a import b`` loads ``a``, or ``a.b`` if ``a`` is not
    fenced), whether it runs at import time or inside a function, and the names it takes."""

    module: str
    names: tuple[str, ...]
    lazy: bool
    line: int


def imports_of(tree: ast.AST) -> Iterator[Imported]:
    def walk(node: ast.AST, lazy: bool) -> Iterator[Imported]:
        for child in ast.iter_child_nodes(node):
            inner = lazy or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield Imported(alias.name, (), lazy, child.lineno)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                names = tuple(alias.name for alias in child.names)
                yield Imported(child.module, names, lazy, child.lineno)
                private = any(part.startswith("_") for part in child.module.split("."))
                if (
                    not _fenced(child.module) and not private
                ):  # `from service import attacks`, `... import _ring`
                    for name in names:
                        yield Imported(f"{child.module}.{name}", (), lazy, child.lineno)
            yield from walk(child, inner)

    yield from walk(tree, False)


def _fenced(module: str) -> str | None:
    return next((p for p in FENCED if module == p or module.startswith(p + ".")), None)


def layering_violations(sources: Mapping[str, str]) -> list[str]:
    """Every fence crossed in ``sources`` (path relative to the repository -> source), one line each."""
    found = []
    for path, source in sorted(sources.items()):
        tree = ast.parse(source, filename=path)
        for imported in imports_of(tree):
            found += [f"{path}:{imported.line}: {problem}" for problem in _crossings(path, imported)]
        if path.startswith(FENCED["service.attacks"]):
            readable = {*ATTACK_SUITE_MAY_IMPORT["formats"], "__file__"}
            found += [
                f"{path}:{node.lineno}: the attack suite reads formats.{node.attr}; spell it"
                for node in ast.walk(tree)
                if isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "formats"
                and node.attr not in readable
            ]
    return found


def _crossings(path: str, imported: Imported) -> Iterator[str]:
    module = imported.module
    package = _fenced(module)
    if (
        package
        and not path.startswith(("tests/", FENCED[package]))
        and (path, module) != (FENCE_GATE, f"{package}.cli")
    ):
        yield f"imports {module}; only {FENCE_GATE} loads {package}.cli"
    if package and path == f"{FENCED[package]}cli.py" and not imported.lazy and module != f"{package}.cli":
        yield f"{package}.cli imports {module} at import time; import it inside the command function"
    private = module.startswith("formats.") and any(part.startswith("_") for part in module.split(".")[1:])
    if private and not path.startswith(("formats/", "tests/")) and path not in FLOORS_MAY_IMPORT_PRIVATE:
        yield f"imports the private {module}; export what it needs from formats"
    if path.startswith(FENCED["service.attacks"]) and module.startswith("formats") and imported.names:
        taken = sorted(set(imported.names) - ATTACK_SUITE_MAY_IMPORT.get(module, frozenset()))
        if taken:
            yield f"the attack suite takes {taken} from {module}; spell it in service/attacks/contract.py"


def repository_sources() -> dict[str, str]:
    return {
        str(p.relative_to(ROOT)): p.read_text(encoding="utf-8")
        for p in python_files("formats", "service", "benchmarks", "tests")
    }


def test_the_fence_check_sees_the_gate_and_the_fenced_packages() -> None:
    sources = repository_sources()
    assert {FENCE_GATE, "service/attacks/cli.py", "benchmarks/cli.py", "service/attacks/contract.py"} <= set(
        sources
    )
    gate = list(imports_of(ast.parse(sources[FENCE_GATE])))
    assert {"service.attacks.cli", "benchmarks.cli"} <= {i.module for i in gate}


def test_no_module_crosses_a_fence() -> None:
    assert layering_violations(repository_sources()) == []


@pytest.mark.parametrize(
    ("path", "source", "message"),
    [
        ("service/app.py", "from service.attacks.catalog import ATTACKS", "only service/cli.py loads"),
        ("service/app.py", "from service import attacks", "imports service.attacks;"),
        ("service/routes/me.py", "def f():\n    import benchmarks.run", "imports benchmarks.run;"),
        ("formats/registry.py", "import benchmarks.cli", "imports benchmarks.cli;"),
        ("service/cli.py", "from service.attacks.catalog import ATTACKS", "only service/cli.py loads"),
        ("service/attacks/cli.py", "from service.attacks.catalog import ATTACKS", "at import time"),
        ("benchmarks/cli.py", "from benchmarks.run import PLANS", "at import time"),
        ("service/migration.py", "from formats._ring import read_key_text", "private formats._ring"),
        ("service/auth/credentials.py", "from formats import _ring", "private formats._ring"),
        ("benchmarks/bench_tokens.py", "import formats._ed25519", "private formats._ed25519"),
        ("service/attacks/model.py", "from formats import TokenMalformed", "takes ['TokenMalformed']"),
        (
            "service/attacks/context.py",
            "from formats._jwt_common import JWT_TYP",
            "private formats._jwt_common",
        ),
        (
            "service/attacks/migration.py",
            "from formats.migration import token_label",
            "takes ['token_label']",
        ),
        (
            "service/attacks/x.py",
            "import formats\nCODE = formats.TokenExpired.code",
            "reads formats.TokenExpired",
        ),
    ],
)
def test_the_fence_check_catches_each_crossing(path: str, source: str, message: str) -> None:
    found = layering_violations({path: source})
    assert any(message in line for line in found), found


def test_the_fence_check_lets_the_gate_tests_and_lazy_imports_through() -> None:
    allowed = {
        "service/cli.py": "from service.attacks.cli import register\nfrom benchmarks.cli import register",
        "service/attacks/cli.py": "def _run():\n    from service.attacks.suite import run_in_process",
        "benchmarks/cli.py": "def _bench():\n    from benchmarks.run import PLANS",
        "tests/formats/test_x.py": "from formats._ring import KeyFile\nfrom service.attacks import suite",
        "service/attacks/key_management.py": "import formats\nroot = formats.__file__",
        "service/attacks/migration.py": "from formats.keys import list_key_files\nfrom formats import Kind",
    }
    assert layering_violations(allowed) == []


def test_serving_loads_neither_the_attack_suite_nor_the_benchmarks() -> None:
    code = (
        "import sys, service.cli, service.app\n"
        "print(sorted(m for m in sys.modules if m.startswith(('service.attacks', 'benchmarks'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "['benchmarks', 'benchmarks.cli', 'service.attacks', 'service.attacks.cli']"
