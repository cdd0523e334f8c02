"""Serving one configured server whose upstream is reached over Streamable HTTP (``transport: streamable-http``).

The upstream already speaks the client's transport, so Portico relays at the HTTP level and stays
transparent: the body bytes go upstream unchanged (already validated), the upstream's status and
content type come back, SSE is relayed event by event with event ids intact (so ``Last-Event-ID``
resumption works end to end), and requests are re-originated with Portico's own headers
(:mod:`proxy.upstream.headers`) plus the server's credential.

- **Handshake era.** Client sessions map 1:1 to upstream sessions: ``initialize`` is forwarded,
  the upstream's ``Mcp-Session-Id`` is kept in the client's Portico session and never shown to
  the client; every later POST/GET/DELETE of that session carries it upstream. Ids need no
  remapping because nothing else shares the upstream session. An upstream 404 on a mapped
  session ends the Portico session too (the client re-initializes).
- **2026-07-28.** Each POST is forwarded as is; closing the client's stream closes the upstream's —
  when the upstream speaks 2026-07-28. The first modern request probes it with ``server/discover``
  (:mod:`proxy.era_bridge.http_probe`, verdict kept 300 s); a handshake-only upstream is bridged
  (:mod:`proxy.era_bridge.bridge`) over a message-level handshake session per user
  (:mod:`proxy.era_bridge.http_connection`).
- **Handshake client, 2026-07-28-only upstream.** When the upstream refuses ``initialize`` with a
  4xx and answers ``server/discover`` as a modern server, Portico answers the handshake and
  translates the session's requests itself (:mod:`proxy.era_bridge.modern_upstream`).
"""

from __future__ import annotations

from typing import Final

import anyio
import httpx2

from app.config.schema import GatewayConfig, StreamableHttpServerConfig
from proxy.credentials.sources import UpstreamCredentials
from proxy.era_bridge.bridge import HandshakeBridge
from proxy.era_bridge.http_connection import HttpMessageConnection
from proxy.era_bridge.http_probe import speaks_modern_http
from proxy.era_bridge.modern_http_exchange import HttpModernExchange
from proxy.era_bridge.modern_upstream import ModernUpstreamBridge
from proxy.era_bridge.parking import ParkedRequests
from proxy.upstream.connection import MessageConnection
from proxy.upstream.headers import client_response_headers, upstream_headers
from proxy.upstream.http_client import (
    DataPlaneClient,
    UpstreamConnectError,
    UpstreamHttpError,
    UpstreamReadTimeoutError,
    UpstreamResponse,
)
from proxy.upstream.http_relay import relay_json, relay_sse
from proxy.upstream.pool import UpstreamPool
from proxy.wire.errors import (
    UpstreamAuthFailedError,
    UpstreamFailedError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from proxy.wire.exchange import Exchange
from proxy.wire.jsonrpc import JsonRpcMessage, JsonRpcNotification, JsonRpcRequest, RequestId
from proxy.wire.mcp_sessions import McpSession, McpSessionRegistry
from proxy.wire.protocol import DEFAULT_HANDSHAKE_VERSION, PROTOCOL_VERSION_HEADER, SESSION_ID_HEADER

_SSE: Final = "text/event-stream"
_VERDICT_SECONDS: Final = 300.0


class HttpBackend:
    def __init__(
        self,
        server: str,
        config: StreamableHttpServerConfig,
        *,
        client: DataPlaneClient,
        bridge_client: httpx2.AsyncClient,
        credentials: UpstreamCredentials,
        sessions: McpSessionRegistry,
        settings: GatewayConfig,
        pool: UpstreamPool,
        parked: ParkedRequests,
    ) -> None:
        self.server = server
        self._config = config
        self._client = client
        self._bridge_client = bridge_client  # the bridges' message-level traffic (not the relay's hot path)
        self._credentials = credentials
        self._sessions = sessions
        self._settings = settings
        self._bridge = HandshakeBridge(server, connect=self._connect, pool=pool, settings=settings, parked=parked)
        self._era_verdict: tuple[bool, float] | None = None  # (speaks 2026-07-28, until)
        send = HttpModernExchange(server, config, client=bridge_client, credentials=credentials, settings=settings)
        self._modern = ModernUpstreamBridge(server, send=send, sessions=sessions, settings=settings)

    async def handshake_post(
        self, exchange: Exchange, session: McpSession | None, messages: list[JsonRpcMessage], body: bytes
    ) -> None:
        if session is not None and self._modern.owns(session):
            await self._modern.post(exchange, session, messages)
            return
        request_id = _single_request_id(messages)
        upstream_session = session.upstream_session_id if session is not None else None
        response = await self._send(exchange, "POST", body, upstream_session)
        if session is None and await self._refused_as_modern_only(exchange, response):
            first = messages[0]
            assert isinstance(first, JsonRpcRequest)
            await self._modern.initialize(exchange, first)
            return
        try:
            if session is None and response.status_code < 300:
                session = self._open_session(exchange, messages, response)
            elif session is not None and response.status_code == 404 and upstream_session is not None:
                self._sessions.remove(session.mcp_session_id)
            await self._relay(exchange, response, session, request_id)
        finally:
            await response.aclose()

    async def handshake_get(self, exchange: Exchange, session: McpSession) -> None:
        if self._modern.owns(session):
            await self._modern.get(exchange, session)
            return
        response = await self._send(exchange, "GET", None, session.upstream_session_id)
        try:
            await self._relay(exchange, response, session, None)
        finally:
            await response.aclose()

    async def handshake_delete(self, session: McpSession) -> None:
        """Best effort: tell the upstream its session is over (it may answer 405; that is fine)."""
        if self._modern.owns(session):
            self._modern.delete(session)
            return
        if session.upstream_session_id is None:
            return
        headers = upstream_headers(
            await self._credentials.http_headers(session.subject, self.server),
            {SESSION_ID_HEADER: session.upstream_session_id, PROTOCOL_VERSION_HEADER: session.protocol_version},
        )
        try:
            response = await self._request("DELETE", headers, None)
        except UpstreamHttpError:
            return
        await response.aclose()

    async def modern_post(self, exchange: Exchange, request: JsonRpcRequest, body: bytes) -> None:
        if not await self._speaks_modern(exchange.subject):
            await self._bridge.serve(exchange, request)
            return
        response = await self._send(exchange, "POST", body, None)
        try:
            await self._relay(exchange, response, None, request.id)
        finally:
            await response.aclose()

    async def modern_notify(self, exchange: Exchange, notification: JsonRpcNotification, body: bytes) -> None:
        if not await self._speaks_modern(exchange.subject):
            await self._bridge.notify(exchange, notification)
            return
        response = await self._send(exchange, "POST", body, None)
        try:
            await self._relay(exchange, response, None, None)
        finally:
            await response.aclose()

    async def _speaks_modern(self, subject: str) -> bool:
        """The upstream's era, probed with ``server/discover`` and remembered for 300 s."""
        now = anyio.current_time()
        if self._era_verdict is None or self._era_verdict[1] <= now:
            headers = await self._credentials.http_headers(subject, self.server)
            modern = await speaks_modern_http(self._bridge_client, self._config, headers, self.server)
            self._era_verdict = (modern, now + _VERDICT_SECONDS)
        return self._era_verdict[0]

    async def _refused_as_modern_only(self, exchange: Exchange, response: UpstreamResponse) -> bool:
        """An ``initialize`` refused with a 4xx by an upstream that answers ``server/discover`` (2026-07-28 only)."""
        if not 400 <= response.status_code < 500 or response.status_code in (401, 403):
            return False
        try:
            modern = await self._speaks_modern(exchange.subject)
        except BaseException:
            await response.aclose()
            raise
        if modern:
            await response.aclose()
        return modern

    async def _connect(self, subject: str | None) -> MessageConnection:
        """A handshake-era message connection for the bridge (one per user, pooled)."""
        return HttpMessageConnection(
            client=self._bridge_client,
            config=self._config,
            headers=await self._credentials.http_headers(subject or "", self.server),
            label=f"{self.server}[{subject}]",
            max_message_bytes=self._settings.max_message_bytes,
        )

    def _open_session(
        self, exchange: Exchange, messages: list[JsonRpcMessage], response: UpstreamResponse
    ) -> McpSession:
        first = messages[0]
        requested = first.params.get("protocolVersion") if isinstance(first, JsonRpcRequest) and first.params else None
        return self._sessions.create(
            subject=exchange.subject,
            server=self.server,
            protocol_version=requested if isinstance(requested, str) else DEFAULT_HANDSHAKE_VERSION,
            upstream_session_id=response.header(SESSION_ID_HEADER),
        )

    async def _send(
        self, exchange: Exchange, method: str, body: bytes | None, upstream_session: str | None
    ) -> UpstreamResponse:
        """Re-originate the client's request upstream and return the (streaming) response.

        Raises:
            UpstreamUnavailableError / UpstreamTimeoutError / UpstreamFailedError: no response.
        """
        headers = upstream_headers(
            await self._credentials.http_headers(exchange.subject, self.server),
            {SESSION_ID_HEADER: upstream_session} if upstream_session is not None else None,
            client=exchange.headers,
        )
        try:
            return await self._request(method, headers, body)
        except UpstreamConnectError as error:
            raise UpstreamUnavailableError(f"upstream server {self.server} is unreachable ({error})") from error
        except UpstreamReadTimeoutError as error:
            raise UpstreamTimeoutError(f"upstream server {self.server} did not answer in time") from error
        except UpstreamHttpError as error:
            raise UpstreamFailedError(f"upstream server {self.server} failed ({error})") from error

    async def _request(self, method: str, headers: dict[str, str], body: bytes | None) -> UpstreamResponse:
        config = self._config
        return await self._client.send(
            method,
            config.url,
            headers=headers,
            body=body,
            connect_timeout=config.connect_timeout,
            read_timeout=config.read_timeout,
        )

    async def _relay(
        self,
        exchange: Exchange,
        response: UpstreamResponse,
        session: McpSession | None,
        request_id: RequestId | None,
    ) -> None:
        if response.status_code in (401, 403):
            raise UpstreamAuthFailedError(
                f"upstream server {self.server} refused Portico's credential (HTTP {response.status_code})"
            )
        headers = client_response_headers(response.header_items())
        if session is not None:
            headers[SESSION_ID_HEADER] = session.mcp_session_id
        if (response.header("content-type") or "").lower().startswith(_SSE):
            await relay_sse(
                exchange,
                response,
                headers,
                request_id=request_id,
                keepalive=self._settings.keepalive_interval,
                max_event_bytes=self._settings.max_message_bytes,
            )
        else:
            await relay_json(exchange, response, headers, self._settings.max_message_bytes)


def _single_request_id(messages: list[JsonRpcMessage]) -> RequestId | None:
    ids = [m.id for m in messages if isinstance(m, JsonRpcRequest)]
    return ids[0] if len(ids) == 1 else None
