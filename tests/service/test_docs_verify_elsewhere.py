"""``docs/verify-elsewhere.md`` is true: each example in ``docs/examples/`` (pyjwt, joserfc, pyseto, and the
Node.js one with ``jose`` and ``paseto``) verifies the access token a real ``tokenbench serve`` issued, with
the issuer's published keys or its shared key files, and refuses what the service would refuse: another
audience, a tampered token, a refresh token (kind binding), another issuer.

The Node.js example needs ``npm ci --prefix docs/examples/js`` (``make examples-js``, which ``make unit``
runs); without node or the packages its rows skip saying so, except under ``CI``, where they fail.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from formats import FormatName
from tests.service.conftest import Server, start_server

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "docs" / "examples"
JS = EXAMPLES / "js"
ISSUER = "https://auth.example"
AUDIENCE = "https://api.example"

COVERS = {
    "verify_pyjwt.py": [FormatName.JWT_HS256, FormatName.JWT_ES256, FormatName.JWT_EDDSA],
    "verify_joserfc.py": [FormatName.JWT_HS256, FormatName.JWT_ES256, FormatName.JWT_EDDSA],
    "verify_pyseto.py": [FormatName.PASETO_V4_LOCAL, FormatName.PASETO_V4_PUBLIC],
    "js/verify.mjs": [
        FormatName.JWT_HS256,
        FormatName.JWT_ES256,
        FormatName.JWT_EDDSA,
        FormatName.PASETO_V4_PUBLIC,
    ],
}
"""Which formats each example verifies: what docs/verify-elsewhere.md's table says."""
CASES = [(example, name) for example, names in COVERS.items() for name in names]


@dataclass(frozen=True)
class Issuer:
    server: Server
    keys_dir: Path
    access: str
    refresh: str


@pytest.fixture(scope="module")
def issuers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[FormatName, Issuer]]:
    """One running service per format, with an issuer and an audience, and alice's tokens from a login."""
    env = {"TOKENBENCH_ISSUER": ISSUER, "TOKENBENCH_AUDIENCE": AUDIENCE}
    running: dict[FormatName, Issuer] = {}
    try:
        for name in FormatName:
            state = tmp_path_factory.mktemp(name.value)
            server = start_server(state, name.value, "--demo", env=env)
            password = server.demo_passwords()["alice"]
            login = httpx.post(f"{server.url}/auth/login", json={"username": "alice", "password": password})
            assert login.status_code == 200, login.text
            running[name] = Issuer(
                server,
                state / "keys" / name.value,
                login.json()["access_token"],
                login.cookies["refresh_token"],
            )
        yield running
    finally:
        for issuer in running.values():
            issuer.server.stop()


@pytest.fixture(scope="module")
def node() -> str:
    """The node binary, once ``npm ci --prefix docs/examples/js`` has installed the pinned packages."""
    found = shutil.which("node")
    missing = None
    if found is None:
        missing = "node is missing (install Node.js 20+)"
    elif not (JS / "node_modules" / ".package-lock.json").exists():
        missing = "the packages are not installed: make examples-js (npm ci --prefix docs/examples/js)"
    if missing is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set, so the JavaScript example does not skip: {missing}")
        pytest.skip(f"JavaScript example: {missing}")
    assert found is not None
    return found


def run(
    example: str,
    name: FormatName,
    running: Issuer,
    token: str,
    *,
    node: str | None,
    issuer: str = ISSUER,
    audience: str = AUDIENCE,
) -> tuple[int, str, str]:
    """Run ``example`` as the page shows it; (exit status, stdout, stderr)."""
    command = [node, str(JS / "verify.mjs")] if node else [sys.executable, str(EXAMPLES / example)]
    command += ["--format", name.value, "--issuer", issuer, "--audience", audience]
    if name in (FormatName.JWT_HS256, FormatName.PASETO_V4_LOCAL):
        command += ["--keys-dir", str(running.keys_dir)]
    else:
        command += ["--issuer-url", running.server.url]
    result = subprocess.run([*command, token], capture_output=True, text=True, timeout=60, check=False)
    return result.returncode, result.stdout, result.stderr


@pytest.fixture
def runner(request: pytest.FixtureRequest, example: str):
    """``run`` with node when the example is the JavaScript one."""
    binary = request.getfixturevalue("node") if example.endswith(".mjs") else None

    def call(name: FormatName, running: Issuer, token: str, **expect: str) -> tuple[int, str, str]:
        return run(example, name, running, token, node=binary, **expect)

    return call


def tampered(token: str) -> str:
    """One character of the claims changed: every format must refuse it."""
    middle = len(token) // 2
    return token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]


@pytest.mark.parametrize(("example", "name"), CASES, ids=[f"{e}-{n}" for e, n in CASES])
def test_the_example_verifies_the_services_access_token(
    runner, issuers, example: str, name: FormatName
) -> None:
    issuer = issuers[name]
    status, out, err = runner(name, issuer, issuer.access)
    assert status == 0, err
    claims = json.loads(out)
    assert (claims["sub"], claims["role"], claims["iss"], claims["aud"]) == (
        "alice",
        "user",
        ISSUER,
        AUDIENCE,
    )
    assert claims["perms"] == ["profile:read", "sessions:revoke"]


@pytest.mark.parametrize(("example", "name"), CASES, ids=[f"{e}-{n}" for e, n in CASES])
def test_the_example_refuses_what_the_service_refuses(
    runner, issuers, example: str, name: FormatName
) -> None:
    issuer = issuers[name]
    attempts = {
        "another audience": (issuer.access, {"audience": "https://other.example"}),
        "another issuer": (issuer.access, {"issuer": "https://evil.example"}),
        "a tampered token": (tampered(issuer.access), {}),
        "a refresh token": (issuer.refresh, {}),
    }
    with ThreadPoolExecutor(len(attempts)) as pool:  # four processes at once: the suite stays quick
        futures = {case: pool.submit(runner, name, issuer, t, **kw) for case, (t, kw) in attempts.items()}
        refusals = {case: future.result() for case, future in futures.items()}
    for case, (status, out, err) in refusals.items():
        assert status == 1, f"{example} accepted {case} ({name}): {out}"
        assert err.startswith("refused: "), f"{case}: {err}"
        assert out == ""


def test_the_page_lists_what_the_examples_cover() -> None:
    page = (ROOT / "docs" / "verify-elsewhere.md").read_text(encoding="utf-8")
    for example, names in COVERS.items():
        assert f"](examples/{example})" in page, f"{example} is not linked"
        row = next(line for line in page.splitlines() if line.startswith(f"| [`{example.split('/')[-1]}`]"))
        for name in FormatName:
            assert (f"`{name}`" in row) == (name in names), f"{example}: {name} in the table row"


def test_the_javascript_packages_are_pinned() -> None:
    manifest = json.loads((JS / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((JS / "package-lock.json").read_text(encoding="utf-8"))
    for package, version in manifest["dependencies"].items():
        assert version[0].isdigit(), f"{package} {version} is a range; pin it"
        assert lock["packages"][f"node_modules/{package}"]["version"] == version


SNIPPETS = {"pyjwt": "verify_pyjwt.py", "joserfc": "verify_joserfc.py", "pyseto": "verify_pyseto.py"}
SNIPPETS["Node.js: `jose` and `paseto`"] = "js/verify.mjs"


def test_the_pages_snippets_quote_the_tested_examples() -> None:
    # The page shows excerpts; every option name and every one-word string of an excerpt must be in the
    # example the tests run, so the page cannot drift from what is tested.
    page = (ROOT / "docs" / "verify-elsewhere.md").read_text(encoding="utf-8")
    for heading, example in SNIPPETS.items():
        section = page.split(f"\n### {heading}\n", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
        blocks = re.findall(r"```(?:python|js)\n(.*?)```", section, re.S)
        assert blocks, heading
        source = (EXAMPLES / example).read_text(encoding="utf-8")
        for block in blocks:
            code = re.sub(r"(#|//) .*", "", block)  # comments explain; they are not options
            options = set(re.findall(r"\b([A-Za-z_]\w*)\s*(?:=(?!=)|:(?!:))", code))
            strings = {s for s in re.findall(r"""['"]([^'"\s]+)['"]""", code) if s != "."}
            missing = sorted(word for word in options | strings if word not in source)
            assert missing == [], f"verify-elsewhere.md, {heading}: {missing} not in docs/examples/{example}"
