"""The request class of the app: JSON bodies are decoded strictly, refusing duplicate object keys.

msgspec, like most JSON parsers, keeps the last of two equal keys; another parser in front of the service
(a proxy, a WAF, a log pipeline) may keep the first, so ``{"role": "user", "role": "admin"}`` would mean
one thing to what checked it and another to the service. RFC 8259 §4 leaves duplicates undefined, so the
service refuses them: 400 with code ``duplicate_key``, on every route that reads a JSON body.

A JSON body must also be *labelled* JSON (``application/json`` or ``application/*+json``), else 415
``unsupported_media_type``: a cross-site HTML form can post ``text/plain`` whose text happens to be JSON
without any CORS preflight, and would otherwise log the victim's browser into the attacker's account
(login CSRF); a JSON content type from another origin needs a preflight the service never grants.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from litestar import Request

from service.errors import InvalidRequest, UnsupportedMediaType

__all__ = ["StrictJsonRequest", "refuse_duplicate_keys"]


class _DuplicateKeyError(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: Iterable[tuple[str, Any]]) -> None:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise _DuplicateKeyError(key)
        seen.add(key)


def refuse_duplicate_keys(body: bytes) -> None:
    """Raise InvalidRequest (``duplicate_key``) if any JSON object in ``body`` repeats a key.

    Anything that is not valid JSON passes: the body's own decoder refuses it with its own message.
    """
    try:
        json.loads(body, object_pairs_hook=_no_duplicates)
    except _DuplicateKeyError as exc:
        detail = f"duplicate key {exc.key[:64]!r} in the JSON body"
        raise InvalidRequest(detail, code="duplicate_key") from None
    except (ValueError, RecursionError):
        return


class StrictJsonRequest(Request[Any, Any, Any]):
    """Litestar's request, with :func:`refuse_duplicate_keys` before the JSON body is decoded."""

    async def json(self) -> Any:
        """The decoded JSON body; InvalidRequest if an object in it repeats a key."""
        media_type = self.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if not (
            media_type == "application/json"
            or (media_type.startswith("application/") and media_type.endswith("+json"))
        ):
            raise UnsupportedMediaType("the body must be sent as Content-Type: application/json")
        refuse_duplicate_keys(await self.body())
        return await super().json()
