"""The switch of docs/migration.md, run for real: ``tokenbench serve`` processes on one database and one key
directory, first issuing ``jwt-hs256``, then ``paseto-v4-public`` while accepting ``jwt-hs256``, then without
it. The page shows this run's transcript; the test checks the page shows exactly what the run printed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from formats import FormatName, Kind, ephemeral
from formats.migration import token_label
from tests.service.conftest import Server

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "migration.md"
GRACE = 1
CSRF = {"X-Requested-With": "tokenbench"}


class Transcript:
    """What the run did, one line per request: what was sent, and the status, code and token labels."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def step(self, text: str) -> None:
        self.lines.append(f"# {text}")

    def request(self, what: str, response: httpx.Response, *, tokens: tuple[str, ...] = ()) -> None:
        body = response.json() if response.content else {}
        shown = [str(response.status_code)]
        if "code" in body:
            shown.append(body["code"])
        if "format" in body:
            shown.append(f"format={body['format']}")
        shown += [
            f"{name}={token_label(token)}" for name, token in zip(("access", "cookie"), tokens, strict=False)
        ]
        self.lines.append(f"$ {what}")
        self.lines.append("  -> " + " ".join(shown))


def page_transcript() -> list[str]:
    """The transcript block of docs/migration.md (between its two marker comments)."""
    text = PAGE.read_text(encoding="utf-8")
    block = re.search(
        r"<!-- e2e transcript -->\n```text\n(.*?)```\n<!-- /e2e transcript -->", text, re.DOTALL
    )
    assert block is not None, "docs/migration.md has no e2e transcript block"
    return block.group(1).splitlines()


class Client:
    """Requests with the credentials given each time: no cookie jar between them."""

    def __init__(self, server: Server) -> None:
        self.url = server.url

    def login(self, password: str) -> tuple[httpx.Response, str, str]:
        response = httpx.post(f"{self.url}/auth/login", json={"username": "alice", "password": password})
        return response, response.json()["access_token"], response.cookies["refresh_token"]

    def me(self, access: str) -> httpx.Response:
        return httpx.get(f"{self.url}/me", headers={"Authorization": f"Bearer {access}"})

    def refresh(self, token: str) -> httpx.Response:
        return httpx.post(f"{self.url}/auth/refresh", headers={"Cookie": f"refresh_token={token}", **CSRF})

    def health(self) -> httpx.Response:
        return httpx.get(f"{self.url}/health")


def test_a_running_deployment_switches_from_jwt_hs256_to_paseto_v4_public(
    serve: Callable[..., Server],
) -> None:
    run = Transcript()
    grace = {"TOKENBENCH_REFRESH_GRACE": str(GRACE)}

    run.step("start: TOKENBENCH_FORMAT=jwt-hs256, serve --demo")
    old = serve("jwt-hs256", "--demo", env=grace)
    password = old.demo_passwords()["alice"]
    login, old_access, old_refresh = Client(old).login(password)
    run.request("POST /auth/login", login, tokens=(old_access, old_refresh))
    old.stop()

    run.step("restart: TOKENBENCH_FORMAT=paseto-v4-public TOKENBENCH_ACCEPT_FORMATS=jwt-hs256, serve")
    new = serve("paseto-v4-public", env={**grace, "TOKENBENCH_ACCEPT_FORMATS": "jwt-hs256"})
    client = Client(new)
    me = client.me(old_access)
    assert me.json()["username"] == "alice"
    run.request("GET /me  (old jwt-hs256 access token)", me)

    rotated = client.refresh(old_refresh)
    access, successor = rotated.json()["access_token"], rotated.cookies["refresh_token"]
    run.request("POST /auth/refresh  (old jwt-hs256 refresh cookie)", rotated, tokens=(access, successor))
    assert token_label(successor) == token_label(access) == "v4.public."
    run.request("GET /me  (the new v4.public access token)", client.me(access))

    time.sleep(GRACE + 1)
    run.step(f"sleep {GRACE + 1}  (past TOKENBENCH_REFRESH_GRACE={GRACE})")
    run.request("POST /auth/refresh  (the old jwt-hs256 refresh cookie again)", client.refresh(old_refresh))
    run.request("POST /auth/refresh  (its v4.public successor)", client.refresh(successor))

    login, access, refresh = client.login(password)
    run.request("POST /auth/login", login, tokens=(access, refresh))
    health = client.health()
    accepted = health.json()["accepted"]["jwt-hs256"]
    run.request("GET /health", health)
    run.lines.append(
        f"  accepted: jwt-hs256 access={accepted['access']} refresh={accepted['refresh']} "
        f"last_seen={'set' if accepted['last_seen'] else 'none'}"
    )
    new.stop()
    assert "issuing paseto-v4-public; still accepting jwt-hs256 (1 key(s)) (verify only)" in new.output()

    run.step("restart: TOKENBENCH_FORMAT=paseto-v4-public without TOKENBENCH_ACCEPT_FORMATS, serve")
    client = Client(serve("paseto-v4-public", env=grace))
    run.request("GET /me  (old jwt-hs256 access token)", client.me(old_access))
    run.request("POST /auth/refresh  (old jwt-hs256 refresh cookie)", client.refresh(old_refresh))

    print("\n".join(run.lines))  # the transcript docs/migration.md shows
    assert run.lines == page_transcript()


def test_a_verifier_only_service_follows_the_switch(serve: Callable[..., Server], make_claims: Any) -> None:
    """``serve --verify-only`` with TOKENBENCH_ACCEPT_FORMATS: both formats' published keys, one per token."""
    old = serve("jwt-es256", "--demo")
    password = old.demo_passwords()["alice"]
    _, old_access, _ = Client(old).login(password)
    old.stop()
    issuer = serve("paseto-v4-public", env={"TOKENBENCH_ACCEPT_FORMATS": "jwt-es256"})
    _, new_access, _ = Client(issuer).login(password)
    accepting = {"TOKENBENCH_ACCEPT_FORMATS": "jwt-es256"}
    verifier = serve("paseto-v4-public", "--verify-only", "--issuer-url", issuer.url, env=accepting)

    for token in (old_access, new_access):
        me = Client(verifier).me(token)
        assert (me.status_code, me.json()["username"]) == (200, "alice")
    foreign = ephemeral(FormatName.JWT_EDDSA).issue(make_claims(), kind=Kind.ACCESS)
    refused = Client(verifier).me(foreign)
    assert (refused.status_code, refused.json()["code"]) == (401, "token_malformed")
    health = Client(verifier).health().json()
    assert (health["format"], list(health["accepted"])) == ("paseto-v4-public", ["jwt-es256"])
    assert health["accepted"]["jwt-es256"]["source"] == f"{issuer.url}/.well-known/jwks.json"


def test_a_verifier_only_service_refuses_an_accepted_symmetric_format() -> None:
    env = {**os.environ, "TOKENBENCH_ACCEPT_FORMATS": "jwt-hs256"}
    command = ["serve", "--format", "paseto-v4-public", "--verify-only", "--issuer-url", "http://127.0.0.1:9"]
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(
        "tokenbench: error: TOKENBENCH_ACCEPT_FORMATS: --verify-only: jwt-hs256 is symmetric"
    )
