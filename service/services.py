"""The objects route handlers need, built once per app by :func:`service.app.create_app`.

Handlers receive them through Litestar's dependency injection as ``services``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from litestar.di import NamedDependency

from formats import Clock, TokenFormat
from service.accounts import Accounts
from service.auth.sessions import SessionManager
from service.passwords import PasswordHasher
from service.settings import Settings
from service.stores import Stores
from service.throttle import LoginThrottle

__all__ = ["Services", "ServicesDep"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Services:
    """Settings, the token format, the stores, the hasher, sessions, the account rules, the login throttle."""

    settings: Settings
    fmt: TokenFormat
    stores: Stores
    hasher: PasswordHasher
    sessions: SessionManager
    accounts: Accounts
    clock: Clock
    throttle: LoginThrottle


ServicesDep: TypeAlias = NamedDependency[Services]
"""How a handler asks for them: ``async def handler(services: ServicesDep)``."""
