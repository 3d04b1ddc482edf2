"""The verifier's key-set client against a fake issuer: a real small HTTP server on a free port that
publishes the ``/.well-known`` document of a real key ring, and can be slowed, broken or stopped.

Cache (``max-age``), single-flight refetch on an unknown key id, the refetch rate limit, the last good set
kept while the issuer is down, and fail-closed before any set was fetched.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import pytest

from formats import FORMATS, FormatName, KeyConfigError, Kind, TokenUnknownKey, ephemeral, load
from formats.keys import generate_key_file
from service.verifier import KeySetClient, symmetric_refusal

T = TypeVar("T")

ASYMMETRIC = [n for n in FormatName if FORMATS[n].public_document is not None]


class FakeIssuer:
    """Serves ``/.well-known/<document>`` of the key ring in ``keys_dir``, as the issuer would."""

    def __init__(self, name: FormatName, keys_dir: Path, port: int = 0) -> None:
        self.name = name
        self.keys_dir = keys_dir
        self.status = 200
        self.delay = 0.0
        self.cache_control = "public, max-age=60"
        self.document: Any = None  # None: the ring's own document
        self.requests = 0
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                issuer.requests += 1
                time.sleep(issuer.delay)
                document = issuer.document or load(issuer.name, issuer.keys_dir).well_known()
                body = json.dumps(document.get(FORMATS[issuer.name].public_document, {})).encode()
                if self.path != f"/.well-known/{FORMATS[issuer.name].public_document}":
                    self.send_response(404)
                    body = b"{}"
                else:
                    self.send_response(issuer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Cache-Control", issuer.cache_control)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(params=ASYMMETRIC, ids=str)
def issuer(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FakeIssuer]:
    name = FormatName(request.param)
    generate_key_file(tmp_path, name)
    fake = FakeIssuer(name, tmp_path)
    yield fake
    fake.stop()


def run(body: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(body())  # type: ignore[arg-type]


def token_of(issuer: FakeIssuer, make_claims: Any, **overrides: Any) -> str:
    return load(issuer.name, issuer.keys_dir).issue(make_claims(**overrides), kind=Kind.ACCESS)


def client_for(issuer: FakeIssuer, policy: Any, clock: Any, **options: Any) -> KeySetClient:
    return KeySetClient(issuer.url, issuer.name, policy=policy, clock=clock, **options)


def test_the_set_is_fetched_once_and_cached_for_max_age(issuer, policy, clock, make_claims) -> None:
    token = token_of(issuer, make_claims)

    async def body() -> None:
        async with client_for(issuer, policy, clock) as client:
            for _ in range(20):
                assert (await client.verify(token)).sub == "user-1"
            status = client.status()
            assert status.source == f"{issuer.url}/.well-known/{FORMATS[issuer.name].public_document}"
            assert status.max_age == 60
            assert status.fetched_at is not None
            assert status.last_error is None

    run(body)
    assert issuer.requests == 1


def test_a_short_max_age_is_refetched_in_the_background(issuer, policy, clock) -> None:
    issuer.cache_control = "public, max-age=1"

    async def body() -> None:
        async with client_for(issuer, policy, clock):
            await asyncio.sleep(1.6)

    run(body)
    assert issuer.requests == 2


def test_an_unknown_kid_refetches_once_for_every_waiting_request(issuer, policy, clock, make_claims) -> None:
    """Single flight: 30 requests with the new key's tokens wait for one fetch, then all verify."""

    async def body() -> None:
        async with client_for(issuer, policy, clock, min_refetch_interval=0.0) as client:
            generate_key_file(issuer.keys_dir, issuer.name)  # the issuer rotates (activation now)
            issuer.delay = 0.3
            tokens = [token_of(issuer, make_claims, jti=f"jti-{i}") for i in range(30)]
            claims = await asyncio.gather(*(client.verify(t) for t in tokens))
            assert [c.jti for c in claims] == [f"jti-{i}" for i in range(30)]

    run(body)
    assert issuer.requests == 2


def test_a_flood_of_random_kids_fetches_at_most_once_per_interval(issuer, policy, clock, make_claims) -> None:
    strangers = [ephemeral(issuer.name, policy=policy, clock=clock) for _ in range(3)]
    forged = [s.issue(make_claims(), kind=Kind.ACCESS) for s in strangers]

    async def body() -> None:
        async with client_for(issuer, policy, clock, min_refetch_interval=0.5) as client:
            for _ in range(40):  # all inside the interval after the initial fetch
                for token in forged:
                    with pytest.raises(TokenUnknownKey):
                        await client.verify(token)
            assert issuer.requests == 1
            await asyncio.sleep(0.6)
            results = await asyncio.gather(*(client.verify(t) for t in forged * 10), return_exceptions=True)
            assert all(isinstance(r, TokenUnknownKey) for r in results)
            assert issuer.requests == 2  # one refetch for the whole burst

    run(body)


def test_the_last_good_set_keeps_verifying_while_the_issuer_is_down(
    issuer, policy, clock, make_claims
) -> None:
    token = token_of(issuer, make_claims)

    async def body() -> None:
        async with client_for(issuer, policy, clock, min_refetch_interval=0.0) as client:
            issuer.status = 503
            assert await client.refresh() is False
            assert (await client.verify(token)).sub == "user-1"
            assert client.status().last_error == "_FetchError: HTTP 503"
            issuer.stop()
            assert await client.refresh() is False
            assert (await client.verify(token)).sub == "user-1"
            status = client.status()
            assert status.fetched_at is not None
            assert status.last_error is not None
            assert "ConnectError" in status.last_error

    run(body)


def test_without_any_set_every_token_is_refused_until_the_issuer_answers(
    issuer, policy, clock, make_claims, tmp_path
) -> None:
    token = token_of(issuer, make_claims)
    port = issuer.port
    issuer.stop()

    async def body() -> None:
        client = KeySetClient(
            f"http://127.0.0.1:{port}", issuer.name, policy=policy, clock=clock, min_refetch_interval=0.2
        )
        async with client:
            assert not client.has_keys
            with pytest.raises(TokenUnknownKey, match="no key set"):
                await client.verify(token)
            back = FakeIssuer(issuer.name, issuer.keys_dir, port=port)
            try:
                await asyncio.sleep(0.3)
                assert (await client.verify(token)).sub == "user-1"
            finally:
                back.stop()

    run(body)


def test_a_document_that_leaks_a_private_key_is_refused_whole(issuer, policy, clock, make_claims) -> None:
    (key_file,) = (issuer.keys_dir / issuer.name.value).iterdir()
    private = key_file.read_text().strip()
    kid = load(issuer.name, issuer.keys_dir).active_kid
    entry = json.loads(private) if private.startswith("{") else {"kid": kid, "paserk": private}
    issuer.document = {FORMATS[issuer.name].public_document: {"keys": [entry]}}
    token = token_of(issuer, make_claims)

    async def body() -> None:
        async with client_for(issuer, policy, clock) as client:
            assert not client.has_keys
            assert "private" in (client.status().last_error or "")
            with pytest.raises(TokenUnknownKey):
                await client.verify(token)

    run(body)


@pytest.mark.parametrize("name", [n for n in FormatName if FORMATS[n].public_document is None], ids=str)
def test_a_client_for_a_symmetric_format_is_refused_with_the_reason(name) -> None:
    reason = symmetric_refusal(name)
    assert reason is not None
    assert "mint tokens" in reason
    assert "docs/failure-modes.md" in reason
    with pytest.raises(KeyConfigError, match="symmetric"):
        KeySetClient("http://127.0.0.1:9", name)
