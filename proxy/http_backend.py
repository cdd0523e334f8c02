"""Serving one configured server whose upstream is reached over Streamable HTTP (``transport: streamable-http``).

The upstream already speaks the client's transport, so Portico relays at the HTTP level and stays
transparent: the body bytes go upstream unchanged (already validated), the upstream's status and
content type come back, SSE is relayed event by event with event ids intact (so ``Last-Event-ID``
resumption works end to end), and requests are re-originated with Portico's own headers
(``outbound.py``) plus the server's credential.

- **Handshake era.** Client sessions map 1:1 to upstream sessions: ``initialize`` is forwarded,
  the upstream's ``Mcp-Session-Id`` is kept in the client's Portico session and never shown to
  the client; every later POST/GET/DELETE of that session carries it upstream. Ids need no
  remapping because nothing else shares the upstream session. An upstream 404 on a mapped
  session ends the Portico session too (the client re-initializes).
- **2026-07-28.** Each POST is forwarded as is; closing the client's stream closes the upstream's.
"""

from __future__ import annotations

from typing import Final

import httpx2

from app.config.schema import GatewayConfig, StreamableHttpServerConfig
from proxy.errors import (
    UpstreamAuthFailedError,
    UpstreamFailedError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from proxy.exchange import Exchange
from proxy.http_client import upstream_timeouts
from proxy.http_relay import relay_json, relay_sse
from proxy.jsonrpc import JsonRpcMessage, JsonRpcNotification, JsonRpcRequest, RequestId
from proxy.mcp_sessions import McpSession, McpSessionRegistry
from proxy.outbound import client_response_headers, upstream_request_headers
from proxy.protocol import DEFAULT_HANDSHAKE_VERSION, SESSION_ID_HEADER
from proxy.upstream_credentials import UpstreamCredentials

_SSE: Final = "text/event-stream"


class HttpBackend:
    def __init__(
        self,
        server: str,
        config: StreamableHttpServerConfig,
        *,
        client: httpx2.AsyncClient,
        credentials: UpstreamCredentials,
        sessions: McpSessionRegistry,
        settings: GatewayConfig,
    ) -> None:
        self.server = server
        self._config = config
        self._client = client
        self._credentials = credentials
        self._sessions = sessions
        self._settings = settings

    async def handshake_post(
        self, exchange: Exchange, session: McpSession | None, messages: list[JsonRpcMessage], body: bytes
    ) -> None:
        request_id = _single_request_id(messages)
        upstream_session = session.upstream_session_id if session is not None else None
        response = await self._send(exchange, "POST", body, upstream_session)
        try:
            if session is None and response.status_code < 300:
                session = self._open_session(exchange, messages, response)
            elif session is not None and response.status_code == 404 and upstream_session is not None:
                self._sessions.remove(session.mcp_session_id)
            await self._relay(exchange, response, session, request_id)
        finally:
            await response.aclose()

    async def handshake_get(self, exchange: Exchange, session: McpSession) -> None:
        response = await self._send(exchange, "GET", None, session.upstream_session_id)
        try:
            await self._relay(exchange, response, session, None)
        finally:
            await response.aclose()

    async def handshake_delete(self, session: McpSession) -> None:
        """Best effort: tell the upstream its session is over (it may answer 405; that is fine)."""
        if session.upstream_session_id is None:
            return
        headers = {**(await self._credentials.http_headers(session.subject, self.server))}
        headers[SESSION_ID_HEADER] = session.upstream_session_id
        headers["mcp-protocol-version"] = session.protocol_version
        try:
            await self._client.delete(self._config.url, headers=headers, timeout=upstream_timeouts(self._config))
        except httpx2.HTTPError:
            return

    async def modern_post(self, exchange: Exchange, request: JsonRpcRequest, body: bytes) -> None:
        response = await self._send(exchange, "POST", body, None)
        try:
            await self._relay(exchange, response, None, request.id)
        finally:
            await response.aclose()

    async def modern_notify(self, exchange: Exchange, notification: JsonRpcNotification, body: bytes) -> None:
        response = await self._send(exchange, "POST", body, None)
        try:
            await self._relay(exchange, response, None, None)
        finally:
            await response.aclose()

    def _open_session(
        self, exchange: Exchange, messages: list[JsonRpcMessage], response: httpx2.Response
    ) -> McpSession:
        first = messages[0]
        requested = first.params.get("protocolVersion") if isinstance(first, JsonRpcRequest) and first.params else None
        return self._sessions.create(
            subject=exchange.subject,
            server=self.server,
            protocol_version=requested if isinstance(requested, str) else DEFAULT_HANDSHAKE_VERSION,
            upstream_session_id=response.headers.get(SESSION_ID_HEADER),
        )

    async def _send(
        self, exchange: Exchange, method: str, body: bytes | None, upstream_session: str | None
    ) -> httpx2.Response:
        """Re-originate the client's request upstream and return the (streaming) response.

        Raises:
            UpstreamUnavailableError / UpstreamTimeoutError / UpstreamFailedError: no response.
        """
        headers = dict(upstream_request_headers(exchange.headers))
        headers.update(await self._credentials.http_headers(exchange.subject, self.server))
        headers["accept-encoding"] = "identity"
        if upstream_session is not None:
            headers[SESSION_ID_HEADER] = upstream_session
        request = self._client.build_request(
            method, self._config.url, headers=headers, content=body, timeout=upstream_timeouts(self._config)
        )
        try:
            return await self._client.send(request, stream=True)
        except (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout) as error:
            raise UpstreamUnavailableError(
                f"upstream server {self.server} is unreachable ({type(error).__name__})"
            ) from error
        except httpx2.TimeoutException as error:
            raise UpstreamTimeoutError(f"upstream server {self.server} did not answer in time") from error
        except httpx2.HTTPError as error:
            raise UpstreamFailedError(f"upstream server {self.server} failed ({type(error).__name__})") from error

    async def _relay(
        self, exchange: Exchange, response: httpx2.Response, session: McpSession | None, request_id: RequestId | None
    ) -> None:
        if response.status_code in (401, 403):
            raise UpstreamAuthFailedError(
                f"upstream server {self.server} refused Portico's credential (HTTP {response.status_code})"
            )
        headers = client_response_headers(response.headers.multi_items())
        if session is not None:
            headers[SESSION_ID_HEADER] = session.mcp_session_id
        if response.headers.get("content-type", "").lower().startswith(_SSE):
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
