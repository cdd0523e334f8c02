"""What the client-facing handlers need from a server's upstream, whatever its transport.

- :class:`~proxy.backends.message.MessageBackend` — ``stdio`` and legacy ``sse`` (:mod:`proxy.upstream.sse_connection`);
- :class:`~proxy.backends.http.HttpBackend` — ``streamable-http``;
- :class:`~proxy.backends.auto.AutoBackend` — ``auto``: probes, then delegates to one of the two.
"""

from __future__ import annotations

from typing import Protocol

from proxy.wire.exchange import Exchange
from proxy.wire.jsonrpc import JsonRpcMessage, JsonRpcNotification, JsonRpcRequest
from proxy.wire.mcp_sessions import McpSession


class Backend(Protocol):
    server: str

    async def handshake_post(
        self, exchange: Exchange, session: McpSession | None, messages: list[JsonRpcMessage], body: bytes
    ) -> None:
        """Serve a validated POST of the handshake era (``session`` is None only for ``initialize``)."""
        ...

    async def handshake_get(self, exchange: Exchange, session: McpSession) -> None:
        """Serve the session's GET stream."""
        ...

    async def handshake_delete(self, session: McpSession) -> None:
        """Release what the session holds upstream (best effort)."""
        ...

    async def modern_post(self, exchange: Exchange, request: JsonRpcRequest, body: bytes) -> None:
        """Serve one validated 2026-07-28 request."""
        ...

    async def modern_notify(self, exchange: Exchange, notification: JsonRpcNotification, body: bytes) -> None:
        """Pass on a 2026-07-28 client notification (the caller answers 202)."""
        ...
