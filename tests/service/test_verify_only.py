"""``tokenbench serve --verify-only`` and ``docs/examples/resource_server.py`` as real processes next to a
real issuer: they verify its tokens with its published keys, hold no key and no database, fail closed
without an issuer, and the symmetric formats are refused with the reason."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from formats import FORMATS, FormatName, Kind, ephemeral
from tests.service.conftest import CHEAP_ARGON2_ENV, free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).parents[2]
ASYMMETRIC = [n.value for n in FormatName if FORMATS[n].public_document is not None]
SYMMETRIC = [n.value for n in FormatName if FORMATS[n].public_document is None]


def login(server, password: str) -> str:
    response = httpx.post(f"{server.url}/auth/login", json={"username": "alice", "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@pytest.mark.parametrize("name", ASYMMETRIC)
def test_a_verifier_only_service_verifies_the_issuers_tokens(serve, name: str, policy, make_claims) -> None:
    issuer = serve(name, "--demo")
    verifier = serve(name, "--verify-only", "--issuer-url", issuer.url)
    assert "no private key, no database" in verifier.output()
    token = login(issuer, issuer.demo_passwords()["alice"])

    me = httpx.get(f"{verifier.url}/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["username"] == "alice"

    health = httpx.get(f"{verifier.url}/health").json()
    assert (health["status"], health["format"], health["mode"]) == ("ok", name, "verify-only")
    assert health["keys"]["source"] == f"{issuer.url}/.well-known/{FORMATS[FormatName(name)].public_document}"
    assert health["keys"]["fetched_at"] is not None
    assert httpx.get(f"{verifier.url}/health/live").status_code == 200

    stranger = ephemeral(name).issue(make_claims(), kind=Kind.ACCESS)
    for headers, code in (
        ({"Authorization": f"Bearer {stranger}"}, "token_unknown_key"),
        ({"Authorization": "Bearer not-a-token"}, "token_malformed"),
        ({}, "missing_credentials"),
    ):
        refused = httpx.get(f"{verifier.url}/me", headers=headers)
        assert refused.status_code == 401
        assert refused.json()["code"] == code
    assert httpx.post(f"{verifier.url}/auth/login", json={}).status_code in (401, 404, 405)


def test_a_verifier_that_never_reached_its_issuer_fails_closed(serve, make_claims) -> None:
    verifier = serve(
        "jwt-es256", "--verify-only", "--issuer-url", f"http://127.0.0.1:{free_port()}", ready="/health/live"
    )
    health = httpx.get(f"{verifier.url}/health")
    assert health.status_code == 503
    assert health.json()["keys"]["fetched_at"] is None
    assert health.json()["keys"]["last_error"]
    token = ephemeral("jwt-es256").issue(make_claims(), kind=Kind.ACCESS)
    me = httpx.get(f"{verifier.url}/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401
    assert me.json()["code"] == "token_unknown_key"


@pytest.mark.parametrize("name", SYMMETRIC)
def test_verify_only_is_refused_for_a_symmetric_format_with_the_reason(name: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", "serve", "--verify-only", "--issuer-url", "http://127.0.0.1:9"],
        env={**os.environ, "TOKENBENCH_FORMAT": name},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    err = result.stderr.strip()
    assert err.count("\n") == 0
    assert err.startswith(f"tokenbench: error: --verify-only: {name} is symmetric")
    assert "can mint tokens for anyone" in err
    assert "docs/failure-modes.md" in err


def test_issuer_url_without_verify_only_is_refused() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", "serve", "--issuer-url", "http://127.0.0.1:9"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stderr.strip()) == (
        2,
        "tokenbench: error: --issuer-url needs --verify-only (an issuing service publishes its own keys)",
    )


def test_the_resource_server_example_protects_its_route(serve, tmp_path: Path, make_claims) -> None:
    issuer = serve("paseto-v4-public", "--demo")
    token = login(issuer, issuer.demo_passwords()["alice"])
    port = free_port()
    log = tmp_path / "resource-server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "docs" / "examples" / "resource_server.py")],
            env={
                **os.environ,
                **CHEAP_ARGON2_ENV,
                "ISSUER_URL": issuer.url,
                "TOKEN_FORMAT": "paseto-v4-public",
                "PORT": str(port),
            },
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        report = httpx.get(f"{url}/reports", headers={"Authorization": f"Bearer {token}"})
        assert report.status_code == 200, log.read_text()
        assert report.json() == {"report": "quarterly figures for alice", "role": "user"}
        refused = httpx.get(f"{url}/reports")
        assert refused.status_code == 401
        assert refused.json()["code"] == "missing_credentials"
        stranger = ephemeral("paseto-v4-public").issue(make_claims(sub="alice"), kind=Kind.ACCESS)
        forged = httpx.get(f"{url}/reports", headers={"Authorization": f"Bearer {stranger}"})
        assert forged.status_code == 401
        assert forged.json()["code"] == "token_unknown_key"
    finally:
        process.terminate()
        process.wait(timeout=15)
