"""The registry: a new format is one module plus one line here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from formats.base import FormatName, TokenFormat
from formats.jwt_eddsa import JwtEdDsa
from formats.jwt_es256 import JwtEs256
from formats.jwt_hs256 import JwtHs256
from formats.paseto_v4_local import PasetoV4Local
from formats.paseto_v4_public import PasetoV4Public

__all__ = ["FORMATS"]

FORMATS: Final[Mapping[FormatName, type[TokenFormat]]] = {
    FormatName.JWT_HS256: JwtHs256,
    FormatName.JWT_ES256: JwtEs256,
    FormatName.JWT_EDDSA: JwtEdDsa,
    FormatName.PASETO_V4_LOCAL: PasetoV4Local,
    FormatName.PASETO_V4_PUBLIC: PasetoV4Public,
}
