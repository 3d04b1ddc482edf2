"""Browser fixtures: one headless Chromium per module, one ``tokenbench serve`` per format.

Playwright drives Debian's ``chromium`` (``executable_path``), never a browser it downloads. When
Playwright or chromium is missing the tests skip with how to install them, except under ``CI``, where they
fail: ``make install`` (as root) installs chromium, ``pip install -e .[dev]`` installs Playwright.
Screenshots of every step go to ``var/browser/`` (an artefact, not a comparison).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from formats import FormatName
from tests.service.conftest import Server, start_server

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "browser"
ACCESS_TTL = 4
GRACE = 2
EXPECTED_NETWORK_ERRORS = re.compile(
    r"^Failed to load resource: the server responded with a status of 40[13] "
)
"""What Chromium logs for every 401/403 a request gets: the page gets them on purpose (no cookie yet on the
first load, expired tokens, attacks). Any other console error fails the test (404, 5xx, CSP, exceptions)."""

HOW_TO_INSTALL = (
    "install them with `make install` as root, or `apt-get install -y chromium` and `pip install playwright`"
)


def _require(what: str) -> None:
    message = f"{what}: the browser tests need Debian's chromium and Playwright for Python; {HOW_TO_INSTALL}"
    if os.environ.get("CI"):
        pytest.fail(f"CI is set, so the browser tests do not skip: {message}")
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per module (closed before the rest of the suite runs on)."""
    try:
        from playwright.sync_api import sync_playwright  # noqa: PLC0415 - optional until a browser test runs
    except ImportError:
        _require("Playwright is not installed")
    executable = os.environ.get("TOKENBENCH_CHROMIUM") or shutil.which("chromium")
    if executable is None:
        _require("chromium is not installed")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module", params=list(FormatName), ids=[f.value for f in FormatName])
def page_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``tokenbench serve --demo`` for one format: access tokens live 4 s, no leeway, a 2 s grace window."""
    name = FormatName(request.param)
    state = tmp_path_factory.mktemp(f"page-{name.value}")
    server = start_server(
        state,
        name.value,
        "--demo",
        env={
            "TOKENBENCH_ACCESS_TTL": str(ACCESS_TTL),
            "TOKENBENCH_LEEWAY": "0",
            "TOKENBENCH_REFRESH_GRACE": str(GRACE),
            "TOKENBENCH_LOGIN_RATE_LIMIT": "off",
        },
    )
    yield server
    server.stop()


@dataclass
class Tab:
    """One page of the browser context, with the console errors it logged."""

    page: Any
    errors: list[str] = field(default_factory=list)

    def shot(self, name: str, *, full_page: bool = False) -> Path:
        """Save ``var/browser/<name>.png`` (the viewport, or the whole page)."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


@dataclass
class Browsing:
    """A fresh browser context (its own cookie jar) on one server; ``open()`` adds a tab."""

    context: Any
    server: Server
    format: str
    tabs: list[Tab] = field(default_factory=list)

    def open(self, path: str = "/") -> Tab:
        page = self.context.new_page()
        tab = Tab(page)

        def on_console(message: Any) -> None:
            if message.type == "error" and not EXPECTED_NETWORK_ERRORS.match(message.text):
                tab.errors.append(message.text)

        page.on("console", on_console)
        page.on("pageerror", lambda exc: tab.errors.append(f"uncaught: {exc}"))
        page.goto(f"{self.server.url}{path}")
        page.wait_for_selector("body[data-ready=true]")
        self.tabs.append(tab)
        return tab

    def login(self, tab: Tab, username: str = "alice") -> None:
        page = tab.page
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(self.server.demo_passwords()[username])
        page.get_by_role("button", name="Log in", exact=True).click()
        page.wait_for_selector("#inspector-body:not([hidden])")


@pytest.fixture
def browsing(browser: Any, page_server: Server) -> Iterator[Browsing]:
    """A new context on the format's server; at the end, no tab may have logged a console error."""
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    running = httpx.get(f"{page_server.url}/health", timeout=10).json()["format"]
    session = Browsing(context, page_server, format=running)
    yield session
    errors = [error for tab in session.tabs for error in tab.errors]
    context.close()
    assert errors == [], f"console errors on the page: {errors}"
