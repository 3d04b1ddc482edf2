"""A verifier-only service during a format switch: the issuer's key sets of every format it accepts.

``serve --verify-only`` with ``TOKENBENCH_ACCEPT_FORMATS`` follows the issuer's rule (docs/migration.md):
one :class:`KeySetClient` per format (the issued one and each accepted one, all asymmetric), and each
token goes to the one client of the format its own label names (:func:`formats.migration.token_label`),
never to whichever verifies. A token whose label names none of them is ``token_malformed``.
"""

from __future__ import annotations

from collections.abc import Sequence

from formats import FORMATS, Claims, FormatName, Kind, TokenMalformed
from formats.migration import token_label
from service.verifier.client import KeySetClient, KeySetStatus

__all__ = ["KeySetWindow"]


class KeySetWindow:
    """The key sets of the issued format (first) and of the accepted ones, with one client's interface."""

    def __init__(self, clients: Sequence[KeySetClient]) -> None:
        if not clients:
            raise ValueError("a key-set window needs at least the issued format's client")
        self._clients = tuple(clients)
        self._by_label = {FORMATS[client.format_name].token_label: client for client in self._clients}
        if len(self._by_label) != len(self._clients):
            raise ValueError("each format of a key-set window is listed once")

    @property
    def clients(self) -> tuple[KeySetClient, ...]:
        """The issued format's client, then the accepted formats' ones."""
        return self._clients

    @property
    def format_name(self) -> FormatName:
        """The issued format."""
        return self._clients[0].format_name

    @property
    def has_keys(self) -> bool:
        """True once every format's key set has been fetched."""
        return all(client.has_keys for client in self._clients)

    def status(self) -> KeySetStatus:
        """The issued format's key set (``GET /health`` lists every format's under ``accepted``)."""
        return self._clients[0].status()

    async def start(self) -> None:
        """Start every client."""
        for client in self._clients:
            await client.start()

    async def close(self) -> None:
        """Close every client."""
        for client in self._clients:
            await client.close()

    async def verify(self, token: str, *, kind: Kind = Kind.ACCESS) -> Claims:
        """Verify ``token`` with the key set of the one format its label names."""
        label = token_label(token)
        client = None if label is None else self._by_label.get(label)
        if client is None:
            raise TokenMalformed("not a token of a format this service accepts")
        return await client.verify(token, kind=kind)
