"""Graceful shutdown of ``portico serve`` on SIGTERM/SIGINT (ADR 0012).

uvicorn's own shutdown stops accepting, then waits for every open connection up to
``timeout_graceful_shutdown`` and cancels what is left (an ERROR line and a traceback per task);
the app's lifespan shutdown runs only after that. Idle event streams never end by themselves,
so they used to hold every shutdown for the whole timeout and were then cut mid-stream.

:class:`GracefulServer` starts the app's :class:`Drain` at the moment uvicorn starts shutting
down, alongside uvicorn's wait: the drain ends idle streams at once (a clean end of the body),
lets requests in flight finish within ``listen.shutdown_grace`` and answers the rest with a
JSON-RPC error. uvicorn's own timeout is kept as a backstop, :data:`BACKSTOP_SECONDS` later.
The lifespan shutdown then stops the upstream connections and stdio children as before.
"""

from __future__ import annotations

import asyncio
import logging
import math
import socket
from typing import Final, Protocol

import uvicorn

from app.slots import Slot

log = logging.getLogger("portico")
BACKSTOP_SECONDS: Final = 5.0
"""How long after ``listen.shutdown_grace`` uvicorn itself cancels what still runs."""


class Drain(Protocol):
    """Ends the app's open exchanges when the server stops (implemented by the data plane)."""

    async def drain(self) -> None:
        """Close idle streams now, wait for calls up to the grace period, cancel the rest; returns when all ended."""
        ...


SHUTDOWN_DRAIN: Slot[Drain] = Slot("shutdown_drain")


class GracefulServer(uvicorn.Server):
    """``uvicorn.Server`` that runs ``drain`` as soon as shutdown begins."""

    def __init__(self, config: uvicorn.Config, drain: Drain | None) -> None:
        super().__init__(config)
        self._drain = drain

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self._drain is None:
            await super().shutdown(sockets)
            return
        drained = asyncio.get_running_loop().create_task(self._drain.drain())
        try:
            await super().shutdown(sockets)
        finally:
            if not drained.done():
                drained.cancel()
            elif not drained.cancelled() and (error := drained.exception()) is not None:
                log.warning("shutdown: draining open exchanges failed: %s", type(error).__name__)


def uvicorn_grace(shutdown_grace: float) -> int:
    """uvicorn's ``timeout_graceful_shutdown`` (whole seconds) for a drain of at most ``shutdown_grace`` s."""
    return math.ceil(shutdown_grace + BACKSTOP_SECONDS)
