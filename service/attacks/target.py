"""The service under attack, over HTTP: its routes, how a probe is sent, and how a reply is judged.

One class serves both ways of running the suite: an ``httpx.Client`` on ``--url`` (a running service),
or Litestar's ``TestClient`` (an ``httpx.Client`` driving the ASGI app in-process, see
:mod:`service.attacks.inprocess`). Cookies are sent and read by hand: the client's cookie jar is
cleared after every request, so each probe carries exactly the credentials it names. Every request
carries ``X-Requested-With``, as the service's own page does, so the CSRF guard
(:mod:`service.auth.csrf`) never hides what a probe tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from http.cookies import SimpleCookie
from typing import Any, Final

import httpx

from service.attacks.model import (
    CannotWaitError,
    Observation,
    Outcome,
    Probe,
    Reply,
    Session,
    Via,
)
from service.auth.credentials import HOST_REFRESH_COOKIE, PLAIN_REFRESH_COOKIE
from service.auth.csrf import CSRF_HEADER

__all__ = ["MAX_REMOTE_WAIT", "ServiceTarget", "judge_reply"]

MAX_REMOTE_WAIT: Final = 30
"""Seconds a scenario may wait for a remote service's clock (grace windows); longer waits are not run."""

_REFRESH_COOKIES: Final = (HOST_REFRESH_COOKIE.name, PLAIN_REFRESH_COOKIE.name)
"""The refresh cookie's name: ``__Host-refresh_token`` over https, ``refresh_token`` on plain http."""
_PROTECTED: Final = "/admin/users"
_TRANSPORT_REFUSALS: Final = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)


def _set_cookies(response: httpx.Response) -> list[tuple[str, str, str]]:
    """Each refresh cookie the response sets: (name, value, Max-Age)."""
    found: list[tuple[str, str, str]] = []
    for header in response.headers.get_list("set-cookie"):
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        found.extend(
            (name, cookie[name].value, str(cookie[name]["max-age"]))
            for name in _REFRESH_COOKIES
            if name in cookie
        )
    return found


def _refresh_cookie(response: httpx.Response) -> str | None:
    return next((value for _, value, _ in _set_cookies(response) if value), None)


def expires_refresh_cookie(response: httpx.Response, name: str) -> bool:
    """Whether ``response`` expires the refresh cookie ``name`` (``Max-Age=0``, no value)."""
    return any(n == name and not value and max_age == "0" for n, value, max_age in _set_cookies(response))


def _code(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, str) else None


def _reply(response: httpx.Response) -> Reply:
    access = None
    if response.status_code == 200:
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("access_token"), str):
            access = body["access_token"]
    return Reply(
        status=response.status_code,
        code=_code(response) if response.status_code >= 400 else None,
        refresh_token=_refresh_cookie(response),
        access_token=access,
    )


def _seen(reply: Reply) -> str:
    return f"{reply.status} {reply.code}" if reply.code else str(reply.status)


class ServiceTarget:
    """The running service: its routes for scenarios, and probe delivery.

    ``advance`` moves the in-process service's clock (``shift``) or, for a remote service, sleeps for up
    to :data:`MAX_REMOTE_WAIT` seconds.
    """

    def __init__(
        self,
        client: httpx.Client,
        *,
        username: str,
        password: str,
        refresh_grace: int,
        shift: Callable[[timedelta], None] | None = None,
        lifetimes: tuple[int, int] | None = None,
    ) -> None:
        self._client = client
        self._client.headers[CSRF_HEADER] = "tokenbench-attacks"  # the cookie routes need it (CSRF guard)
        self._username = username
        self._password = password
        self._shift = shift
        self.refresh_grace = refresh_grace
        self.access_ttl = 0
        self.lifetimes = lifetimes
        self._cookie_name: str | None = None

    # --- requests -----------------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._client.request(method, path, **kwargs)
        finally:
            self._client.cookies.clear()

    def health(self) -> dict[str, Any]:
        """``GET /health``."""
        response = self._request("GET", "/health")
        body: dict[str, Any] = response.json()
        return body

    def well_known(self, name: str) -> dict[str, Any] | None:
        """``GET /.well-known/<name>``, or None when the format publishes no such document (404)."""
        response = self._request("GET", f"/.well-known/{name}")
        if response.status_code != 200:
            return None
        body: dict[str, Any] = response.json()
        return body

    def login(self) -> Session:
        """Log the suite's user in (a new refresh family each time)."""
        response = self._request(
            "POST", "/auth/login", json={"username": self._username, "password": self._password}
        )
        reply = _reply(response)
        if response.status_code != 200 or reply.access_token is None or reply.refresh_token is None:
            raise RuntimeError(
                f"login as {self._username!r} failed: {response.status_code} {response.text[:200]}"
            )
        self.access_ttl = int(response.json().get("expires_in", 0))
        self._cookie_name = next(name for name, value, _ in _set_cookies(response) if value)
        return Session(access=reply.access_token, refresh=reply.refresh_token)

    @property
    def cookie_name(self) -> str:
        """The name the service gives its refresh cookie (learnt from a login)."""
        if self._cookie_name is None:
            self.login()
        assert self._cookie_name is not None
        return self._cookie_name

    def _cookies(self, *tokens: str) -> dict[str, bytes]:
        return {"Cookie": "; ".join(f"{self.cookie_name}={token}" for token in tokens).encode("latin-1")}

    def refresh(self, token: str) -> Reply:
        """``POST /auth/refresh`` with ``token`` as the refresh cookie."""
        return _reply(self._request("POST", "/auth/refresh", headers=self._cookies(token)))

    def logout(self, token: str) -> Reply:
        """``POST /auth/logout`` with ``token`` as the refresh cookie."""
        return _reply(self._request("POST", "/auth/logout", headers=self._cookies(token)))

    def logout_with(self, *tokens: str) -> tuple[Reply, bool]:
        """``POST /auth/logout`` with one refresh cookie per token; the reply, and whether it expires them."""
        response = self._request("POST", "/auth/logout", headers=self._cookies(*tokens))
        return _reply(response), expires_refresh_cookie(response, self.cookie_name)

    def logout_all(self, access: str) -> Reply:
        """``POST /auth/logout-all`` with ``access`` as the bearer token."""
        return _reply(
            self._request("POST", "/auth/logout-all", headers={"Authorization": f"Bearer {access}"})
        )

    def me(self, access: str) -> Reply:
        """``GET /me`` with ``access`` as the bearer token."""
        return _reply(self._request("GET", "/me", headers={"Authorization": f"Bearer {access}"}))

    def login_as(self, username: str, password: str) -> Reply:
        """``POST /auth/login`` as any user; the reply as it came."""
        return _reply(self._request("POST", "/auth/login", json={"username": username, "password": password}))

    def create_user(self, access: str, username: str, password: str, role: str) -> Reply:
        """``POST /admin/users`` with ``access`` as the bearer token."""
        body = {"username": username, "password": password, "role": role}
        return _reply(
            self._request("POST", "/admin/users", json=body, headers={"Authorization": f"Bearer {access}"})
        )

    def change_role(self, access: str, username: str, role: str) -> Reply:
        """``PATCH /admin/users/{username}`` with ``access`` as the bearer token."""
        return _reply(
            self._request(
                "PATCH",
                f"/admin/users/{username}",
                json={"role": role},
                headers={"Authorization": f"Bearer {access}"},
            )
        )

    def advance(self, seconds: int) -> None:
        """Let ``seconds`` pass on the service's clock."""
        if self._shift is not None:
            self._shift(timedelta(seconds=seconds))
        elif seconds <= MAX_REMOTE_WAIT:
            time.sleep(seconds)
        else:
            raise CannotWaitError(f"needs the service's clock {seconds} s ahead (run in-process)")

    # --- probes -------------------------------------------------------------------------------------

    def send(self, probe: Probe) -> httpx.Response:
        """Deliver ``probe``'s token where its ``via`` says."""
        token = probe.token.encode("latin-1") if isinstance(probe.token, str) else probe.token
        if probe.via is Via.BEARER:
            return self._request("GET", _PROTECTED, headers={"Authorization": b"Bearer " + token})
        if probe.via is Via.AUTHORIZATION:
            return self._request("GET", _PROTECTED, headers={"Authorization": token})
        if probe.via is Via.COOKIE:
            return self._request("POST", "/auth/refresh", headers={"Cookie": self._cookie_prefix() + token})
        if probe.via is Via.REFRESH_BEARER:
            return self._request("POST", "/auth/refresh", headers={"Authorization": b"Bearer " + token})
        if probe.via is Via.ACCESS_COOKIE:
            return self._request("GET", _PROTECTED, headers={"Cookie": self._cookie_prefix() + token})
        if probe.via is Via.TWO_BEARERS:
            headers = [
                ("Authorization", b"Bearer " + token),
                ("Authorization", f"Bearer {probe.second}".encode()),
            ]
            return self._request("GET", _PROTECTED, headers=headers)
        if probe.via is Via.TWO_COOKIES:
            cookie = (
                self._cookie_prefix() + token + b"; " + self._cookie_prefix() + str(probe.second).encode()
            )
            return self._request("POST", "/auth/refresh", headers={"Cookie": cookie})
        return self._request("GET", _PROTECTED, params={"access_token": token.decode("latin-1")})

    def _cookie_prefix(self) -> bytes:
        return f"{self.cookie_name}=".encode()

    def attack(self, probe: Probe) -> Observation:
        """Send ``probe`` and judge the reply against its expected status and code."""
        try:
            response = self.send(probe)
        except httpx.LocalProtocolError:
            return Observation(
                probe.variant, Outcome.NOT_RUN, "the HTTP client refuses to send it", probe.code
            )
        except _TRANSPORT_REFUSALS as exc:
            outcome = Outcome.REJECTED if 431 in probe.statuses else Outcome.ERROR
            return Observation(
                probe.variant, outcome, f"connection closed ({type(exc).__name__})", probe.code
            )
        reply = _reply(response)
        return judge_reply(probe.variant, reply, probe.code, probe.statuses)

    def judge(self, variant: str, reply: Reply, code: str) -> Observation:
        """REJECTED for a 401 with ``code``; for a numeric ``code`` (a setup step) HELD if it matches."""
        if code.isdigit():
            outcome = Outcome.HELD if reply.status == int(code) else Outcome.ERROR
            return Observation(variant, outcome, _seen(reply), code)
        return judge_reply(variant, reply, code)


def judge_reply(
    variant: str, reply: Reply, code: str, statuses: frozenset[int] = frozenset({401})
) -> Observation:
    """REJECTED for an expected status and ``code``; ACCEPTED for 2xx/3xx/403; ERROR for 5xx; else UNEXPECTED.

    A 403 means the token authenticated and only the route's guard said no: the token got through.
    """
    expected = f"401 {code}"
    if reply.status >= 500:
        outcome = Outcome.ERROR
    elif reply.status < 400 or reply.status == 403:
        outcome = Outcome.ACCEPTED
    elif reply.status in statuses and (reply.code == code or reply.status != 401):
        outcome = Outcome.REJECTED
    else:
        outcome = Outcome.UNEXPECTED
    return Observation(variant, outcome, _seen(reply), expected)
