"""``GET /.well-known/{jwks.json|paserk.json}``: public verification keys, from the key ring.

Only the asymmetric formats publish anything (``jwt-es256`` and ``jwt-eddsa`` a JWKS,
``paseto-v4-public`` PASERK public keys); each document lists the active key, the next keys (published
before they sign) and the retiring verify-only keys. Every other name is 404. ``Cache-Control: max-age``
is ``TOKENBENCH_KEYS_RELOAD``: the documents change at most that often, and verifiers
(``serve --verify-only``) refetch after it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from litestar import Response, get
from litestar.params import FromPath

from service.auth.middleware import EXCLUDE_FROM_AUTH
from service.errors import NotFound
from service.services import ServicesDep

__all__ = ["route_handlers", "well_known"]


@get("/.well-known/{name:str}", opt={EXCLUDE_FROM_AUTH: True}, summary="Public verification keys")
async def well_known(name: FromPath[str], services: ServicesDep) -> Response[Any]:
    """The document ``name`` of this deployment's format, or 404."""
    documents: Mapping[str, Any] = services.fmt.well_known()
    if name not in documents:
        raise NotFound(f"no /.well-known/{name[:64]} for format {services.fmt.name}")
    max_age = services.settings.keys_reload
    return Response(documents[name], headers={"Cache-Control": f"public, max-age={max_age}"})


route_handlers: Final = [well_known]
