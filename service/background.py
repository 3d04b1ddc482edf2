"""The one way the service stops a background task of its own (key reload, accepted-format log, key set)."""

from __future__ import annotations

import asyncio
import contextlib

__all__ = ["stop_task"]


async def stop_task(task: asyncio.Task[None] | None) -> None:
    """Cancel ``task`` (if any) and wait until it has stopped; its cancellation is not re-raised."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
