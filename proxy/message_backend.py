"""Serving one configured server whose upstream speaks JSON-RPC messages (stdio; legacy SSE next).

Both client eras are served from per-user upstream connections (``connection_pool.py``):

- **Handshake era (2025-03-26 … 2025-11-25).** ``initialize`` starts (or reuses) the user's
  connection for the requested revision: Portico performs the handshake with the upstream once,
  with the first client's parameters, and answers this and every later client session of the
  same user and revision from that cached ``InitializeResult`` (exactly what the upstream would
  answer the same request). Each client session gets its own ``Mcp-Session-Id``; requests of all
  sessions share the connection under remapped ids (``multiplexer.py``). If the connection dies,
  the next request restarts it and replays the session's own ``initialize``.
- **2026-07-28.** One connection per user in the modern era, opened by a ``server/discover``
  probe; an upstream that does not answer it as a modern server is reported with
  :class:`~proxy.errors.ProtocolEraNotSupportedError` (bridging eras comes with the next issue).
  Closing the response stream cancels the upstream request (``notifications/cancelled``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

import anyio
from mcp.shared.inbound import validate_mcp_param_headers
from mcp_types.version import LATEST_MODERN_VERSION, MODERN_PROTOCOL_VERSIONS
from starlette.datastructures import Headers

from app.config.schema import GatewayConfig
from proxy.asgi import send_empty, send_json
from proxy.connection_pool import Upstream, UpstreamKey, UpstreamPool
from proxy.delivery import deliver
from proxy.errors import (
    GatewayError,
    HeaderMismatchError,
    ProtocolEraNotSupportedError,
    RelayedUpstreamError,
    StreamConflictError,
)
from proxy.exchange import Exchange
from proxy.jsonrpc import JsonRpcMessage, JsonRpcNotification, JsonRpcRequest, encode
from proxy.mcp_sessions import McpSession, McpSessionRegistry
from proxy.multiplexer import Pending
from proxy.outbox import Outbox, Outgoing
from proxy.protocol import DEFAULT_HANDSHAKE_VERSION, SESSION_ID_HEADER
from proxy.upstream import MessageConnection

log = logging.getLogger("portico.proxy")
Connect = Callable[[str | None], Awaitable[MessageConnection]]
_PROBE_TIMEOUT: Final = 10.0
_LEGACY_VERDICT_SECONDS: Final = 300.0
_SCHEMA_PAGES: Final = 20
GET_STREAM: Final = "get_stream"
UPSTREAM_KEY: Final = "upstream_key"


class MessageBackend:
    def __init__(
        self,
        server: str,
        *,
        connect: Connect,
        shared: bool,
        pool: UpstreamPool,
        sessions: McpSessionRegistry,
        settings: GatewayConfig,
    ) -> None:
        self.server = server
        self._connect = connect
        self._shared = shared
        self._pool = pool
        self._sessions = sessions
        self._settings = settings
        self._handshake_only_until = 0.0

    # --- handshake era -----------------------------------------------------------------------------

    async def handshake_post(
        self, exchange: Exchange, session: McpSession | None, messages: list[JsonRpcMessage], body: bytes
    ) -> None:
        """Serve a POST of the handshake era (``session`` is None only for ``initialize``)."""
        if session is None:
            first = messages[0]
            assert isinstance(first, JsonRpcRequest)
            await self._initialize(exchange, first)
            return
        upstream = await self._upstream_for(session)
        requests = [m for m in messages if isinstance(m, JsonRpcRequest)]
        for message in messages:
            if isinstance(message, JsonRpcNotification):
                if message.method != "notifications/initialized":
                    await upstream.mux.notify(message.raw, session)
            elif not isinstance(message, JsonRpcRequest):
                await upstream.mux.respond(message.raw)
        if not requests:
            await send_empty(exchange.send, 202, _session_header(session))
            return
        outbox = self._outbox(f"{self.server}[{session.subject}]", finals=len(requests))
        for request in requests:
            await self._start_request(upstream, request.raw, outbox, session)
        await deliver(
            exchange,
            outbox,
            modern=False,
            keepalive=self._settings.keepalive_interval,
            headers=_session_header(session),
            allow_json=len(requests) == 1,
        )

    async def _initialize(self, exchange: Exchange, request: JsonRpcRequest) -> None:
        params = request.params or {}
        requested = params.get("protocolVersion")
        key = self._key(exchange.subject, f"handshake/{requested if isinstance(requested, str) else '?'}")
        upstream = await self._pool.acquire(key, lambda: self._connect(key.subject), self._handshake_with(params))
        result = upstream.initialize_result or {}
        negotiated = result.get("protocolVersion")
        session = self._sessions.create(
            subject=exchange.subject,
            server=self.server,
            protocol_version=negotiated if isinstance(negotiated, str) else DEFAULT_HANDSHAKE_VERSION,
            initialize_params=params,
            attachments={UPSTREAM_KEY: key},
        )
        body = encode({"jsonrpc": "2.0", "id": request.id, "result": result})
        await send_json(exchange.send, 200, body, _session_header(session))

    async def _upstream_for(self, session: McpSession) -> Upstream:
        key = session.attachments[UPSTREAM_KEY]
        assert isinstance(key, UpstreamKey)
        prepare = self._handshake_with(session.initialize_params or {})
        return await self._pool.acquire(key, lambda: self._connect(key.subject), prepare)

    def _handshake_with(self, params: dict[str, Any]) -> Callable[[Upstream], Awaitable[None]]:
        async def handshake(upstream: Upstream) -> None:
            self._wire(upstream)
            initialize = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": params}
            response = await self._internal_request(upstream, initialize)
            if "error" in response:
                raise RelayedUpstreamError(response["error"])
            upstream.initialize_result = response.get("result") or {}
            await upstream.mux.notify({"jsonrpc": "2.0", "method": "notifications/initialized"}, None)

        return handshake

    async def handshake_get(self, exchange: Exchange, session: McpSession) -> None:
        """The session's GET stream: server→client messages not tied to a request (SSE, keep-alives)."""
        current = session.attachments.get(GET_STREAM)
        if isinstance(current, Outbox) and not current.closed:
            raise StreamConflictError("Conflict: only one GET stream is allowed per session")
        outbox = self._outbox(f"{self.server}[{session.subject}]/GET", finals=1)
        session.attachments[GET_STREAM] = outbox
        try:
            await deliver(
                exchange,
                outbox,
                modern=False,
                keepalive=self._settings.keepalive_interval,
                headers=_session_header(session),
                allow_json=False,
            )
        finally:
            if session.attachments.get(GET_STREAM) is outbox:
                del session.attachments[GET_STREAM]

    async def handshake_delete(self, session: McpSession) -> None:
        stream = session.attachments.pop(GET_STREAM, None)
        if isinstance(stream, Outbox):
            stream.close()

    # --- 2026-07-28 -------------------------------------------------------------------------------

    async def modern_post(self, exchange: Exchange, request: JsonRpcRequest, body: bytes) -> None:
        """Serve one 2026-07-28 request (already validated against its routing headers)."""
        if anyio.current_time() < self._handshake_only_until:
            raise _era_not_supported(self.server)
        key = self._key(exchange.subject, "modern")
        upstream = await self._pool.acquire(key, lambda: self._connect(key.subject), self._discover)
        await self._check_param_headers(upstream, exchange, request)
        outbox = self._outbox(f"{self.server}[{exchange.subject}]", finals=1)
        pending = await self._start_request(upstream, request.raw, outbox, None)

        async def cancel() -> None:
            await upstream.mux.cancel(pending, "client closed the response stream")

        await deliver(
            exchange, outbox, modern=True, keepalive=self._settings.keepalive_interval, headers={}, on_disconnect=cancel
        )

    async def modern_notify(self, exchange: Exchange, notification: JsonRpcNotification, body: bytes) -> None:
        """Forward a 2026-07-28 client notification to a live connection (never cancellations: no ids map)."""
        upstream = self._pool.get(self._key(exchange.subject, "modern"))
        if upstream is not None and notification.method != "notifications/cancelled":
            await upstream.mux.notify(notification.raw, None)

    async def _discover(self, upstream: Upstream) -> None:
        self._wire(upstream)
        meta = {
            "io.modelcontextprotocol/protocolVersion": LATEST_MODERN_VERSION,
            "io.modelcontextprotocol/clientCapabilities": {},
        }
        probe = {"jsonrpc": "2.0", "id": 0, "method": "server/discover", "params": {"_meta": meta}}
        with anyio.move_on_after(_PROBE_TIMEOUT):
            response = await self._internal_request(upstream, probe)
            versions = (response.get("result") or {}).get("supportedVersions")
            if isinstance(versions, list) and any(v in MODERN_PROTOCOL_VERSIONS for v in versions):
                return
        self._handshake_only_until = anyio.current_time() + _LEGACY_VERDICT_SECONDS
        raise _era_not_supported(self.server)

    async def _check_param_headers(self, upstream: Upstream, exchange: Exchange, request: JsonRpcRequest) -> None:
        """``Mcp-Param-*`` must mirror the arguments the tool's schema marks ``x-mcp-header`` (SEP-2243).

        Nobody downstream of a stdio process sees the headers, so Portico checks them itself.
        """
        params = request.params or {}
        name, arguments = params.get("name"), params.get("arguments") or {}
        if request.method != "tools/call" or not isinstance(name, str) or not isinstance(arguments, dict):
            return
        if not arguments and not any(key.startswith("mcp-param-") for key, _ in exchange.headers):
            return
        if name not in upstream.tool_schemas:
            await self._fetch_schemas(upstream, params.get("_meta") or {}, name)
        schema = upstream.tool_schemas.get(name)
        if schema is not None:
            rejection = validate_mcp_param_headers(schema, arguments, Headers(scope=exchange.scope))
            if rejection is not None:
                raise HeaderMismatchError(rejection.message)

    async def _fetch_schemas(self, upstream: Upstream, meta: dict[str, Any], name: str) -> None:
        envelope = {k: v for k, v in meta.items() if k.startswith("io.modelcontextprotocol/")}
        cursor: object = None
        for _ in range(_SCHEMA_PAGES):
            params: dict[str, Any] = {"_meta": envelope} | ({"cursor": cursor} if cursor else {})
            response = await self._internal_request(
                upstream, {"jsonrpc": "2.0", "id": 0, "method": "tools/list", "params": params}
            )
            cursor = (response.get("result") or {}).get("nextCursor")
            if name in upstream.tool_schemas or not isinstance(cursor, str):
                return

    # --- shared -------------------------------------------------------------------------------------

    def _key(self, subject: str, era: str) -> UpstreamKey:
        return UpstreamKey(self.server, None if self._shared else subject, era)

    def _outbox(self, label: str, *, finals: int) -> Outbox:
        return Outbox(self._settings.stream_buffer_messages, label, finals=finals)

    async def _start_request(
        self, upstream: Upstream, message: dict[str, Any], outbox: Outbox, session: McpSession | None
    ) -> Pending:
        upstream.touch()
        return await upstream.mux.request(message, outbox=outbox, session=session)

    async def _internal_request(self, upstream: Upstream, message: dict[str, Any]) -> dict[str, Any]:
        """Portico's own request on the connection; returns the response (or raises the failure)."""
        outbox = self._outbox(f"{self.server}/internal", finals=1)
        await upstream.mux.request(message, outbox=outbox, session=None, internal=True)
        while (item := await outbox.get()) is not None:
            if item.final:
                if item.http_status is not None:
                    raise _as_gateway_error(item)
                return item.message
        return {}

    def _wire(self, upstream: Upstream) -> None:
        """Connect the multiplexer's routing hooks to this server's sessions and schema cache."""
        key = upstream.key

        def bound_sessions() -> list[McpSession]:
            sessions = self._sessions.matching(self.server, key.subject)
            return [s for s in sessions if s.attachments.get(UPSTREAM_KEY) == key]

        def fan_out(message: dict[str, Any]) -> None:
            for session in bound_sessions():
                stream = session.attachments.get(GET_STREAM)
                if isinstance(stream, Outbox):
                    stream.put(Outgoing(message))

        def pick_session() -> McpSession | None:
            with_stream = [s for s in bound_sessions() if isinstance(s.attachments.get(GET_STREAM), Outbox)]
            return max(with_stream, key=lambda s: s.last_used, default=None)

        def on_result(pending: Pending, result: dict[str, Any]) -> None:
            if pending.method == "tools/list" and isinstance(tools := result.get("tools"), list):
                for tool in tools:
                    if isinstance(tool, dict) and isinstance(tool.get("name"), str):
                        upstream.tool_schemas[tool["name"]] = tool.get("inputSchema")

        upstream.mux.fan_out = fan_out
        upstream.mux.pick_session = pick_session
        upstream.mux.on_result = on_result


def _session_header(session: McpSession) -> Mapping[str, str]:
    return {SESSION_ID_HEADER: session.mcp_session_id}


def _era_not_supported(server: str) -> ProtocolEraNotSupportedError:
    return ProtocolEraNotSupportedError(
        f"upstream server {server} speaks only the initialize handshake (2025-11-25 and earlier); "
        "connect with the handshake"
    )


def _as_gateway_error(item: Outgoing) -> GatewayError:
    error = item.message.get("error") or {}
    failure = GatewayError(str(error.get("message", "upstream failure")), data=error.get("data"))
    failure.code = error.get("code", failure.code)
    failure.http_status = item.http_status or 502
    return failure
