"""The teaching page at ``/`` in headless Chromium, against a real ``tokenbench serve`` for every format.

One server per format, shared by its tests: sign-in (tokens kept from script, the inspector, silent refresh
after expiry) and attacks (the attack panel, a cross-site form post) run on every format; tabs (a second
tab, two tabs refreshing at once, logout, logout everywhere) run on the default format only, since the
cookie and the session store behave the same whatever the token format (``tests/service`` checks that on
every format without a browser). No test may leave a console error (``conftest.browsing``).
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from formats import FormatName
from tests.browser.conftest import ACCESS_TTL, GRACE, SHOTS, Browsing, Tab

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

SIGNED_IN = re.compile(r"^Signed in as alice \(user\)")


def wait(page: Any, predicate: str, arg: Any = None, timeout: float = 30_000) -> None:
    """Poll ``predicate`` every 100 ms (not per animation frame, which a background tab throttles)."""
    page.wait_for_function(predicate, arg=arg, polling=100, timeout=timeout)


def who(tab: Tab) -> str:
    return str(tab.page.locator("#who").text_content())


def wait_signed_in(tab: Tab) -> None:
    wait(
        tab.page,
        "() => document.body.dataset.signedIn === 'true'"
        " && /Signed in/.test(document.getElementById('who').textContent)",
    )


def log_lines(tab: Tab) -> list[str]:
    """The page's request log, newest first, as 'METHOD path status [code] [note]'."""
    return [" ".join(text.split()) for text in tab.page.locator("#log li").all_inner_texts()]


def clear_log(tab: Tab) -> None:
    tab.page.evaluate("() => document.getElementById('log').replaceChildren()")


def wait_log(tab: Tab, prefix: str) -> list[str]:
    """Wait until an entry of the request log starts with ``prefix``; return the log, newest first."""
    wait(
        tab.page,
        "p => [...document.querySelectorAll('#log li')]"
        ".some(li => li.innerText.replace(/\\s+/g, ' ').startsWith(p))",
        prefix,
    )
    return log_lines(tab)


def refresh_cookie(browsing: Browsing) -> dict[str, Any] | None:
    cookies = [c for c in browsing.context.cookies() if c["name"].endswith("refresh_token") and c["value"]]
    return cookies[0] if cookies else None


def test_sign_in_keeps_tokens_from_script_and_the_inspector_shows_every_format(browsing: Browsing) -> None:
    tab = browsing.open()
    page = tab.page
    browsing.login(tab)
    wait_signed_in(tab)
    assert SIGNED_IN.match(who(tab))

    cookie = refresh_cookie(browsing)
    assert cookie is not None
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["value"] not in page.evaluate("document.cookie")
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    wait(page, "() => document.getElementById('document-cookie').textContent.includes('HttpOnly')")
    assert "empty" in str(page.locator("#web-storage").text_content())

    inspector = page.get_by_role("region", name="Token inspector")
    assert inspector.is_visible()
    current = inspector.locator("#current")
    assert browsing.format in str(current.locator("h3").text_content())
    roles = set(current.locator(".token .part").evaluate_all("spans => spans.map(s => s.classList[1])"))
    assert {"envelope", "claims", "proof"} <= roles
    cards = inspector.locator(".format-card")
    assert cards.evaluate_all("cs => cs.map(c => c.dataset.format)") == [f.value for f in FormatName]
    assert inspector.locator(".format-card.running").get_attribute("data-format") == browsing.format
    for card in cards.all():
        name = card.get_attribute("data-format")
        if name == FormatName.PASETO_V4_LOCAL:
            assert card.get_by_text("encrypted, only the server can read this").is_visible()
        else:
            assert '"sub": "alice"' in str(card.locator("pre.claims").text_content())
    if browsing.format == FormatName.PASETO_V4_LOCAL:
        assert current.get_by_text("encrypted, only the server can read this").is_visible()
        assert "nonce" in roles
    tab.shot(f"{browsing.format}-1-after-login", full_page=True)

    page.wait_for_timeout((ACCESS_TTL + 1) * 1000)  # the access token expires; the cookie does not
    clear_log(tab)
    page.get_by_role("button", name="Call /me").click()
    lines = wait_log(tab, "GET /me 200 retried after refresh")
    assert [line.split(" ")[:4] for line in reversed(lines)] == [
        ["GET", "/me", "401", "token_expired"],
        ["POST", "/auth/refresh", "200", "silent"],
        ["GET", "/me", "200", "retried"],
    ]
    assert SIGNED_IN.match(who(tab))
    tab.shot(f"{browsing.format}-2-silent-refresh")


@pytest.mark.parametrize("page_server", [FormatName.PASETO_V4_PUBLIC.value], indirect=True)
def test_tabs_share_the_cookie_refresh_together_and_log_out(browsing: Browsing, browser: Any) -> None:
    first = browsing.open()
    browsing.login(first)
    second = browsing.open()  # opened later: signed in through the same cookie, no password
    wait_signed_in(second)
    assert log_lines(second)[-1].startswith("POST /auth/refresh 200")

    outcomes: list[str] = []
    for _ in range(5):  # the two requests must overlap; on a busy machine one try may not
        for tab in (first, second):
            tab.page.evaluate("delete document.body.dataset.lastRefresh")
        first.page.get_by_role("button", name="Refresh in every tab at once").click()
        for tab in (first, second):
            wait(tab.page, "() => document.body.dataset.lastRefresh !== undefined")
        outcomes = sorted(tab.page.evaluate("document.body.dataset.lastRefresh") for tab in (first, second))
        if outcomes == ["grace-retry", "rotated"]:
            break
    assert outcomes == ["grace-retry", "rotated"], "two simultaneous refreshes: one rotates, one retries"
    for tab in (first, second):
        tab.page.bring_to_front()
        wait_signed_in(tab)
        clear_log(tab)
        tab.page.get_by_role("button", name="Call /me").click()
        wait_log(tab, "GET /me 200")
    first.shot(f"{browsing.format}-3-tab-one")
    second.shot(f"{browsing.format}-4-tab-two")

    first.page.get_by_role("button", name="Log out", exact=True).click()
    wait(first.page, "() => document.getElementById('who').textContent === 'Signed out'")
    assert refresh_cookie(browsing) is None
    second.page.reload()
    second.page.wait_for_selector("body[data-ready=true]")
    assert who(second) == "Signed out"

    browsing.login(first)
    laptop = browser.new_context()  # another device of alice's
    try:
        other = laptop.new_page()
        other.goto(browsing.server.url)
        other.wait_for_selector("body[data-ready=true]")
        other.get_by_label("Username").fill("alice")
        other.get_by_label("Password").fill(browsing.server.demo_passwords()["alice"])
        other.get_by_role("button", name="Log in", exact=True).click()
        wait(other, "() => document.body.dataset.signedIn === 'true'")

        first.page.get_by_role("button", name="Log out everywhere").click()
        wait(first.page, "() => document.getElementById('who').textContent === 'Signed out everywhere'")
        other.reload()
        other.wait_for_selector("body[data-ready=true]")
        assert other.locator("#who").text_content() == "Signed out"
    finally:
        laptop.close()


def test_attack_panel_and_a_cross_site_form_are_refused(browsing: Browsing) -> None:
    tab = browsing.open()
    page = tab.page
    browsing.login(tab)
    rows = page.locator("#attack-rows tr")
    assert rows.count() == 5
    for row in rows.all():
        row.get_by_role("button").click()
        row.element_handle().wait_for_element_state("stable")
        wait(page, "r => r.dataset.outcome", row.element_handle(), timeout=(GRACE + 20) * 1000)
        got = str(row.locator(".got").text_content())
        expected = str(row.locator(".expect").text_content())
        assert row.get_attribute("data-outcome") == "refused", (row.get_attribute("data-attack"), got)
        assert got.startswith(expected), (row.get_attribute("data-attack"), got, expected)
        href = str(row.get_by_role("link").get_attribute("href"))
        assert href.startswith("/page/failure-modes.md#:~:text=")
    matrix = httpx.get(f"{browsing.server.url}/page/failure-modes.md", timeout=10)
    assert matrix.status_code == 200
    assert "`REFRESH-REPLAY-AFTER-ROTATION`" in matrix.text
    assert "Signed out: reuse detection" in who(tab)  # the replay revoked the family, this tab's too
    tab.shot(f"{browsing.format}-5-attacks", full_page=True)

    # A page on another origin of the same site (another port of 127.0.0.1): SameSite=Strict still sends
    # the refresh cookie with its form post; only the missing X-Requested-With stops it.
    browsing.login(tab)
    evil = re.sub(r":\d+$", ":1", browsing.server.url) + "/evil.html"
    form = (
        f'<form method="post" action="{browsing.server.url}/auth/logout">'
        '<button type="submit">Win a prize</button></form>'
    )
    browsing.context.route(evil, lambda route: route.fulfill(status=200, content_type="text/html", body=form))
    attacker = browsing.context.new_page()
    attacker.goto(evil)
    with attacker.expect_response(f"{browsing.server.url}/auth/logout") as posted:
        attacker.get_by_role("button", name="Win a prize").click()
    response = posted.value
    assert response.status == 403
    assert "refresh_token=" in response.request.all_headers().get("cookie", "")
    assert "csrf_header_missing" in response.text()
    attacker.screenshot(path=str(SHOTS / f"{browsing.format}-6-cross-site-form-post.png"))
    attacker.close()

    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    wait_signed_in(tab)  # the forged logout did nothing: the cookie still signs this tab in
