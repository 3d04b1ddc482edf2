"""Every attack of the suite, in the catalog's order, then the rows for design principles.

The ids are the catalog's (``tests/attacks/CATALOG.md``);
rows marked ``extra`` are this project's additions for principles the catalog does not spell out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from service.attacks import (
    account,
    claim_lifecycle,
    key_management,
    key_selection,
    login,
    parsing,
    paseto_binding,
    principles,
    signature,
)
from service.attacks.model import Attack

__all__ = ["ATTACKS", "BY_ID"]

ATTACKS: Final[tuple[Attack, ...]] = (
    *signature.ATTACKS,
    *key_selection.ATTACKS,
    *key_management.ATTACKS,
    *paseto_binding.ATTACKS,
    *claim_lifecycle.ATTACKS,
    *parsing.ATTACKS,
    *principles.ATTACKS,
    *account.ATTACKS,
    *login.ATTACKS,
)

BY_ID: Final[Mapping[str, Attack]] = {attack.id: attack for attack in ATTACKS}
if len(BY_ID) != len(ATTACKS):  # pragma: no cover - a duplicated id is a programming error
    raise RuntimeError("duplicate attack id in the catalog")
