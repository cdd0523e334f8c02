"""``transport: auto``: probe Streamable HTTP first, fall back to legacy HTTP+SSE, remember the answer.

The probe is the one the spec gives clients for servers of unknown age (2025-11-25
basic/transports §Backwards Compatibility): POST an ``InitializeRequest`` to the URL with
``Accept: application/json, text/event-stream``. A 2xx means Streamable HTTP (the probe's upstream
session is deleted again, best effort); any other 4xx — typically 404 or 405 — means the server
predates it, and the legacy SSE client (:mod:`proxy.upstream.sse_connection`) is used on the same URL — unless the
server answers ``server/discover`` as a 2026-07-28 server (it refused ``initialize`` because it
speaks only the stateless era): then Streamable HTTP. A 401/403 or
an unreachable server is reported and not remembered, so the next request probes again. With
``servers.<name>.identity`` the probe carries the signed identity too; a server that then turns out
to speak only legacy SSE cannot receive it and every request is refused (docs/credentials.md §identity).

The verdict holds for the life of the process; both backends are built up front, and everything
after the probe is exactly what ``streamable-http`` or ``sse`` would do.
"""

from __future__ import annotations

import logging
from typing import Final

import anyio
import httpx2

from app.config.schema import AutoServerConfig
from oauth.tokens.access_tokens import AccessTokenClaims
from proxy.backends.base import Backend
from proxy.credentials.identity import UpstreamIdentities
from proxy.credentials.sources import UpstreamCredentials
from proxy.era_bridge.http_probe import speaks_modern_http
from proxy.upstream.headers import upstream_headers
from proxy.upstream.http_client import upstream_timeouts
from proxy.wire.errors import UpstreamAuthFailedError, UpstreamUnavailableError
from proxy.wire.exchange import Exchange
from proxy.wire.jsonrpc import JsonRpcMessage, JsonRpcNotification, JsonRpcRequest, encode
from proxy.wire.mcp_sessions import McpSession
from proxy.wire.protocol import PROTOCOL_VERSION_HEADER, SESSION_ID_HEADER

log = logging.getLogger("portico.proxy")
_PROBE: Final = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "portico-transport-probe", "version": "1"},
    },
}


class AutoBackend:
    """Delegates to ``streamable`` or ``legacy`` once :meth:`resolve` has probed the upstream."""

    def __init__(
        self,
        server: str,
        config: AutoServerConfig,
        *,
        client: httpx2.AsyncClient,
        credentials: UpstreamCredentials,
        streamable: Backend,
        legacy: Backend,
        identities: UpstreamIdentities | None = None,
    ) -> None:
        self.server = server
        self._config = config
        self._client = client
        self._credentials = credentials
        self._streamable = streamable
        self._legacy = legacy
        self._identities = identities  # None: the server sends no signed identity
        self._lock = anyio.Lock()
        self.chosen: str | None = None

    async def resolve(self, subject: str, claims: AccessTokenClaims | None = None) -> Backend:
        """The backend for this server, probing the upstream the first time (as ``claims``' user and client).

        Raises:
            UpstreamUnavailableError: unreachable, or an answer that is neither 2xx nor 4xx.
            UpstreamAuthFailedError: the probe was refused with 401/403.
        """
        async with self._lock:
            if self.chosen is None:
                self.chosen = await self._probe(subject, claims)
                log.info("%s: transport auto resolved to %s", self.server, self.chosen)
        return self._streamable if self.chosen == "streamable-http" else self._legacy

    async def _probe(self, subject: str, claims: AccessTokenClaims | None) -> str:
        presented = dict(await self._credentials.http_headers(subject, self.server))
        if self._identities is not None:
            presented.update(await self._identities.headers(self.server, claims))
        headers = upstream_headers(
            presented,
            {"accept": "application/json, text/event-stream", "content-type": "application/json"},
        )
        request = self._client.build_request(
            "POST", self._config.url, headers=headers, content=encode(_PROBE), timeout=upstream_timeouts(self._config)
        )
        try:
            response = await self._client.send(request, stream=True)
            await response.aclose()
        except httpx2.HTTPError as error:
            reason = type(error).__name__
            raise UpstreamUnavailableError(f"upstream server {self.server} is unreachable ({reason})") from error
        status = response.status_code
        if status in (401, 403):
            raise UpstreamAuthFailedError(f"upstream server {self.server} refused Portico's credential (HTTP {status})")
        if 200 <= status < 300:
            await self._end_probe_session(headers, response.headers.get(SESSION_ID_HEADER))
            return "streamable-http"
        if 400 <= status < 500:
            # A 2026-07-28-only server refuses initialize too; it answers server/discover (era bridge).
            modern = await speaks_modern_http(self._client, self._config, headers, self.server)
            return "streamable-http" if modern else "sse"
        raise UpstreamUnavailableError(f"upstream server {self.server} answered the transport probe with {status}")

    async def _end_probe_session(self, headers: dict[str, str], upstream_session: str | None) -> None:
        if upstream_session is None:
            return
        headers = {**headers, SESSION_ID_HEADER: upstream_session, PROTOCOL_VERSION_HEADER: "2025-11-25"}
        try:
            await self._client.delete(self._config.url, headers=headers, timeout=upstream_timeouts(self._config))
        except httpx2.HTTPError:
            return

    async def handshake_post(
        self, exchange: Exchange, session: McpSession | None, messages: list[JsonRpcMessage], body: bytes
    ) -> None:
        backend = await self.resolve(exchange.subject, exchange.claims)
        await backend.handshake_post(exchange, session, messages, body)

    async def handshake_get(self, exchange: Exchange, session: McpSession) -> None:
        await (await self.resolve(exchange.subject, exchange.claims)).handshake_get(exchange, session)

    async def handshake_delete(self, session: McpSession) -> None:
        if self.chosen is not None:
            await (await self.resolve(session.subject)).handshake_delete(session)

    async def modern_post(self, exchange: Exchange, request: JsonRpcRequest, body: bytes) -> None:
        await (await self.resolve(exchange.subject, exchange.claims)).modern_post(exchange, request, body)

    async def modern_notify(self, exchange: Exchange, notification: JsonRpcNotification, body: bytes) -> None:
        await (await self.resolve(exchange.subject, exchange.claims)).modern_notify(exchange, notification, body)
