"""Fixtures shared by every suite: one format fixture parametrized over every format."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from formats import ClaimPolicy, Claims, FormatName, TokenFormat, ephemeral

NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
"""The fixed clock of the contract tests."""


class FixedClock:
    """A clock tests move by hand; formats and the service take it instead of the wall clock."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(params=list(FormatName), ids=[f.value for f in FormatName])
def format_name(request: pytest.FixtureRequest) -> FormatName:
    """Every format, by its flag name."""
    return FormatName(request.param)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def policy() -> ClaimPolicy:
    return ClaimPolicy(leeway=30, issuer="https://tokenbench.test", audience="tokenbench-api")


@pytest.fixture
def fmt(format_name: FormatName, policy: ClaimPolicy, clock: FixedClock) -> TokenFormat:
    """A ready format with fresh keys, the test policy and the fixed clock."""
    return ephemeral(format_name, policy=policy, clock=clock)


@pytest.fixture
def make_claims(policy: ClaimPolicy, clock: FixedClock) -> Callable[..., Claims]:
    """Claims valid at the fixed clock, with any field overridden."""

    def make(**overrides: object) -> Claims:
        now = clock.now
        fields: dict[str, object] = {
            "sub": "user-1",
            "role": "user",
            "perms": ("profile:read",),
            "iat": now,
            "nbf": now,
            "exp": now + timedelta(minutes=15),
            "jti": "jti-0001",
            "iss": policy.issuer,
            "aud": policy.audience,
        }
        fields.update(overrides)
        return Claims(**fields)  # type: ignore[arg-type]

    return make


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A ``short_form`` test runs on the default format in ``make test``; its other formats are ``slow``."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if (
            item.get_closest_marker("short_form")
            and callspec is not None
            and callspec.params.get("format_name", FormatName.PASETO_V4_PUBLIC) != FormatName.PASETO_V4_PUBLIC
        ):
            item.add_marker(pytest.mark.slow)
