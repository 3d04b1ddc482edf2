"""A separate Litestar app that protects its own route with tokenbench access tokens.

It holds no private key and no database: :class:`service.verifier.TokenVerifier` fetches the issuer's
published public keys (``/.well-known/jwks.json`` or ``paserk.json``), follows its rotations, and puts the
verified claims in ``request.user``. Run it next to ``tokenbench serve`` (an asymmetric format)::

    export ISSUER_URL=http://127.0.0.1:8000 TOKEN_FORMAT=paseto-v4-public PORT=8100
    .venv/bin/python docs/examples/resource_server.py
    curl -H "Authorization: Bearer $ACCESS_TOKEN" http://127.0.0.1:8100/reports

``tests/service/test_verify_only.py`` runs this file against a real issuer.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from litestar import Litestar, Request, get

from formats import Claims
from service.verifier import TokenVerifier


@get("/reports")
async def reports(request: Request[Claims, str, Any]) -> dict[str, str]:
    """Only for holders of a valid access token of the issuer; 401 with a ``code`` for anyone else."""
    return {"report": f"quarterly figures for {request.user.sub}", "role": request.user.role}


@get("/", opt={"exclude_from_auth": True})
async def index() -> dict[str, str]:
    """An open route: the plugin leaves it alone."""
    return {"service": "reports"}


def create_app() -> Litestar:
    """The app, with the issuer and format from the environment."""
    verifier = TokenVerifier(os.environ["ISSUER_URL"], os.environ.get("TOKEN_FORMAT", "paseto-v4-public"))
    return Litestar([reports, index], plugins=[verifier])


if __name__ == "__main__":
    from granian import Granian
    from granian.constants import Interfaces

    os.chdir(Path(__file__).parent)  # granian imports the target by module name from here
    Granian(
        "resource_server:create_app",
        factory=True,
        interface=Interfaces.ASGI,
        address="127.0.0.1",
        port=int(os.environ.get("PORT", "8100")),
    ).serve()
