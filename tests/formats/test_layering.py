"""Static checks over the source tree (AST, nothing imported):

* ``formats/`` never imports ``service`` or ``litestar`` (docs/design.md: the format library has no web
  framework in it, ever);
* no code in ``formats/`` or ``service/`` passes a ``nonce`` to pyseto: pyseto lets a caller fix the
  v4.local nonce, and a fixed nonce reuses the XChaCha20 keystream (catalog PASETO-NONCE-MISUSE). Raw
  tokens with a chosen nonce are built by ``formats.forge``, never by pyseto. The one exception is the
  attack suite (``service/attacks/``), which shows the bare library accepting a caller's nonce.
"""

from __future__ import annotations

import ast
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
