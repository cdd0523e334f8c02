"""The transport-neutral seam between the gateway and an upstream that speaks JSON-RPC messages.

A :class:`MessageConnection` is one live connection to one upstream server: a stdio process
(``proxy/stdio/process.py``) or a legacy HTTP+SSE session (``proxy/upstream/sse_connection.py``). Everything
above it — id remapping (:mod:`proxy.upstream.multiplexer`), pooling and caps (:mod:`proxy.upstream.pool`),
the handshake cache and both client eras (:mod:`proxy.backends.message`) — is written against this
protocol only, so a new upstream transport is one new implementation of it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol


class MessageConnection(Protocol):
    label: str

    async def send(self, message: dict[str, Any]) -> None:
        """Write one message to the upstream.

        Raises:
            proxy.wire.errors.UpstreamFailedError: the connection is gone.
        """
        ...

    async def run(self, on_message: Callable[[object], None]) -> str:
        """Read until the connection ends, calling ``on_message`` with each decoded message.

        Returns a short description of how it ended (e.g. ``"exited with code 1"``).
        """
        ...

    async def aclose(self) -> None:
        """End the connection (for a process: close stdin, SIGTERM, then SIGKILL the group)."""
        ...
