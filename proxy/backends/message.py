"""Serving one configured server whose upstream speaks JSON-RPC messages (stdio, legacy SSE).

Both client eras are served from per-user upstream connections (:mod:`proxy.upstream.pool`):

- **Handshake era (2025-03-26 … 2025-11-25).** ``initialize`` starts (or reuses) the user's
  connection for the requested revision: Portico performs the handshake with the upstream once,
  with the first client's parameters, and answers this and every later client session of the
  same user, revision and client capabilities from that cached ``InitializeResult`` (exactly
  what the upstream would answer the same request). Sessions that declare different
  capabilities get different upstream sessions (``capability_sets.py``, ADR 0007), so each one
  sees what its own capabilities give it. Each client session gets its own ``Mcp-Session-Id``; requests of all
  sessions share the connection under remapped ids (``multiplexer.py``). If the connection dies,
  the next request restarts it, replays the session's own ``initialize`` and subscribes again to
  the resources its sessions had subscribed to (``subscriptions.py``).
- **Deadlines.** Every request has a :class:`~proxy.wire.deadline.RequestDeadline`; on expiry
  the client gets -32001 and the upstream ``notifications/cancelled``.
- **2026-07-28.** One connection per user in the modern era, opened by a ``server/discover``
  probe. Closing the response stream cancels the upstream request (``notifications/cancelled``).
  An upstream that does not answer the probe as a modern server (verdict remembered for 300 s)
  is bridged instead: :class:`~proxy.era_bridge.bridge.HandshakeBridge` serves the request from a
  handshake-era session of the user's.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

import anyio

from app.config.schema import GatewayConfig
from app.observe import tracing
from oauth.tokens.access_tokens import AccessTokenClaims
from proxy.backends.message_spans import message_span, with_trace_context
from proxy.era_bridge.bridge import Connect, HandshakeBridge
from proxy.era_bridge.modern_upstream import ModernUpstreamBridge
from proxy.era_bridge.parking import ParkedRequests
from proxy.upstream.calls import (
    check_mcp_param_headers,
    gateway_error_of,
    internal_request,
    remember_tool_schemas,
    speaks_modern,
)
from proxy.upstream.capability_sets import capability_set
from proxy.upstream.multiplexer import Pending
from proxy.upstream.pool import Upstream, UpstreamKey, UpstreamPool
from proxy.upstream.subscriptions import subscribed_uris, track_subscriptions
from proxy.wire.asgi import send_empty, send_json
from proxy.wire.deadline import DeadlineLimits, RequestDeadline, RequestTimeoutError
from proxy.wire.delivery import deliver
from proxy.wire.errors import (
    ProtocolEraNotSupportedError,
    RelayedUpstreamError,
    StreamConflictError,
    UpstreamFailedError,
)
from proxy.wire.exchange import Exchange
from proxy.wire.jsonrpc import JsonRpcMessage, JsonRpcNotification, JsonRpcRequest, encode
from proxy.wire.mcp_sessions import McpSession, McpSessionRegistry
from proxy.wire.outbox import Outbox, Outgoing
from proxy.wire.protocol import DEFAULT_HANDSHAKE_VERSION, SESSION_ID_HEADER

log = logging.getLogger("portico.proxy")
_PROBE_TIMEOUT: Final = 10.0
_LEGACY_VERDICT_SECONDS: Final = 300.0
LISTEN: Final = "subscriptions/listen"  # a stream, not a request awaiting its answer: no deadline
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
        parked: ParkedRequests,
        limits: DeadlineLimits | None = None,
        transport: str = "pipe",
    ) -> None:
        self.server = server
        self._transport = transport  # network.transport of the upstream's spans: pipe (stdio) or tcp (SSE)
        self._limits = limits
        self._connect = connect
        self._shared = shared
        self._pool = pool
        self._sessions = sessions
        self._settings = settings
        self._handshake_only_until = 0.0
        self._bridge = HandshakeBridge(
            server, connect=connect, pool=pool, settings=settings, parked=parked, limits=limits
        )
        self._modern = ModernUpstreamBridge(server, send=self._modern_exchange, sessions=sessions, settings=settings)

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
        if self._modern.owns(session):
            await self._modern.post(exchange, session, messages)
            return
        track_subscriptions(session, messages)
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
        if tracing.ON:
            with message_span(self._transport):
                await self._relay_requests(exchange, session, upstream, requests)
            return
        await self._relay_requests(exchange, session, upstream, requests)

    async def _relay_requests(
        self, exchange: Exchange, session: McpSession, upstream: Upstream, requests: list[JsonRpcRequest]
    ) -> None:
        outbox = self._outbox(f"{self.server}[{session.subject}]", finals=len(requests))
        exchange.upstream_sent()
        pendings = [await self._start_request(upstream, r.raw, outbox, session) for r in requests]

        async def abandon() -> None:
            # Not a cancellation (2025-11-25 transports: a disconnect is not one), but with no event
            # ids on this stream the client cannot resume, so its requests stop pinning the process.
            for pending in pendings:
                upstream.mux.abandon(pending)

        async def expire(error: RequestTimeoutError) -> None:
            for pending in pendings:
                await upstream.mux.expire(pending, error)

        try:
            await deliver(
                exchange,
                outbox,
                modern=False,
                keepalive=self._settings.keepalive_interval,
                headers=_session_header(session),
                allow_json=len(requests) == 1,
                on_disconnect=abandon,
                deadline=self._deadline(),
                on_expire=expire,
            )
        finally:
            exchange.upstream_done()

    async def _initialize(self, exchange: Exchange, request: JsonRpcRequest) -> None:
        params = request.params or {}
        requested = params.get("protocolVersion")
        revision = requested if isinstance(requested, str) else "?"
        # One upstream session per capability set: the upstream sees exactly this client's capabilities.
        key = self._key(exchange.subject, f"handshake/{revision}/{capability_set(params.get('capabilities'))}")
        try:
            upstream = await self._pool.acquire(key, lambda: self._connect(key.subject), self._handshake_with(params))
        except RelayedUpstreamError:
            if not await self._speaks_only_modern(exchange.subject):
                raise
            await self._modern.initialize(exchange, request)  # the reverse bridge (proxy/era_bridge/modern_upstream.py)
            return
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
            await self._resubscribe(upstream)

        return handshake

    async def _resubscribe(self, upstream: Upstream) -> None:
        """A restarted connection: subscribe again to what its client sessions had subscribed to."""
        sessions = self._sessions.matching(self.server, upstream.key.subject)
        uris = {uri for s in sessions if s.attachments.get(UPSTREAM_KEY) == upstream.key for uri in subscribed_uris(s)}
        for uri in sorted(uris):
            request = {"jsonrpc": "2.0", "id": 0, "method": "resources/subscribe", "params": {"uri": uri}}
            if "error" in await self._internal_request(upstream, request):
                log.warning("%s: re-subscribing a resource after a restart failed", upstream.connection.label)

    async def handshake_get(self, exchange: Exchange, session: McpSession) -> None:
        """The session's GET stream: server→client messages not tied to a request (SSE, keep-alives)."""
        if self._modern.owns(session):
            await self._modern.get(exchange, session)
            return
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
        if self._modern.owns(session):
            self._modern.delete(session)
            return
        stream = session.attachments.pop(GET_STREAM, None)
        if isinstance(stream, Outbox):
            stream.close()

    # --- 2026-07-28 -------------------------------------------------------------------------------

    async def modern_post(self, exchange: Exchange, request: JsonRpcRequest, body: bytes) -> None:
        """Serve one 2026-07-28 request (already validated against its routing headers)."""
        if self._handshake_only_until and anyio.current_time() < self._handshake_only_until:
            await self._bridge.serve(exchange, request)
            return
        key = self._key(exchange.subject, "modern")
        try:
            upstream = await self._pool.acquire(key, lambda: self._connect(key.subject), self._discover)
        except ProtocolEraNotSupportedError:
            await self._bridge.serve(exchange, request)
            return
        await check_mcp_param_headers(upstream, exchange, request, capacity=self._settings.stream_buffer_messages)
        if tracing.ON:
            with message_span(self._transport):
                await self._relay_modern(exchange, upstream, request)
            return
        await self._relay_modern(exchange, upstream, request)

    async def _relay_modern(self, exchange: Exchange, upstream: Upstream, request: JsonRpcRequest) -> None:
        outbox = self._outbox(f"{self.server}[{exchange.subject}]", finals=1)
        exchange.upstream_sent()
        pending = await self._start_request(upstream, request.raw, outbox, None)

        async def cancel() -> None:
            await upstream.mux.cancel(pending, "client closed the response stream")

        async def expire(error: RequestTimeoutError) -> None:
            await upstream.mux.expire(pending, error)

        try:
            await deliver(
                exchange,
                outbox,
                modern=True,
                keepalive=self._settings.keepalive_interval,
                headers={},
                on_disconnect=cancel,
                deadline=None if request.method == LISTEN else self._deadline(),
                on_expire=expire,
            )
        finally:
            exchange.upstream_done()

    async def modern_notify(self, exchange: Exchange, notification: JsonRpcNotification, body: bytes) -> None:
        """Forward a 2026-07-28 client notification to a live connection (never cancellations: no ids map)."""
        if self._handshake_only_until and anyio.current_time() < self._handshake_only_until:
            await self._bridge.notify(exchange, notification)
            return
        upstream = self._pool.get(self._key(exchange.subject, "modern"))
        if upstream is not None and notification.method != "notifications/cancelled":
            await upstream.mux.notify(notification.raw, None)

    async def _discover(self, upstream: Upstream) -> None:
        self._wire(upstream)
        with anyio.move_on_after(_PROBE_TIMEOUT):
            if await speaks_modern(upstream, capacity=self._settings.stream_buffer_messages):
                return
        self._handshake_only_until = anyio.current_time() + _LEGACY_VERDICT_SECONDS
        raise _era_not_supported(self.server)

    async def _speaks_only_modern(self, subject: str) -> bool:
        """After a refused ``initialize``: whether ``server/discover`` answers as a 2026-07-28 server."""
        key = self._key(subject, "modern")
        try:
            await self._pool.acquire(key, lambda: self._connect(key.subject), self._discover)
        except ProtocolEraNotSupportedError:
            return False
        return True

    async def _modern_exchange(
        self, subject: str, _claims: AccessTokenClaims | None, message: dict[str, Any], outbox: Outbox | None
    ) -> dict[str, Any]:
        """One 2026-07-28 request on the user's modern-era connection, for the reverse bridge.

        Notifications go to ``outbox``; the final message is returned; leaving early (cancelled)
        sends ``notifications/cancelled`` upstream (2026-07-28 stdio transport).

        Raises:
            GatewayError: the connection failed, or ended without answering.
        """
        key = self._key(subject, "modern")
        upstream = await self._pool.acquire(key, lambda: self._connect(key.subject), self._discover)
        answers = self._outbox(f"{self.server}[{subject}]/bridged", finals=1)
        pending = await upstream.mux.request(message, outbox=answers, session=None)
        answered = False
        try:
            while (item := await answers.get()) is not None:
                if item.final:
                    answered = True
                    if item.http_status is not None:
                        raise gateway_error_of(item)
                    return item.message
                if outbox is not None and "method" in item.message and "id" not in item.message:
                    outbox.put(Outgoing(item.message))
        finally:
            if not answered:
                with anyio.CancelScope(shield=True):
                    await upstream.mux.cancel(pending, "the client cancelled the request")
        raise UpstreamFailedError(f"upstream server {self.server} ended without answering")

    # --- shared -------------------------------------------------------------------------------------

    def _deadline(self) -> RequestDeadline | None:
        return RequestDeadline(self._limits) if self._limits is not None else None

    def _key(self, subject: str, era: str) -> UpstreamKey:
        return UpstreamKey(self.server, None if self._shared else subject, era)

    def _outbox(self, label: str, *, finals: int) -> Outbox:
        return Outbox(self._settings.stream_buffer_messages, label, finals=finals, server=self.server)

    async def _start_request(
        self, upstream: Upstream, message: dict[str, Any], outbox: Outbox, session: McpSession | None
    ) -> Pending:
        # No touch(): the pool's acquire() just did, for this very request.
        if tracing.ON:
            message = with_trace_context(message)
        return await upstream.mux.request(message, outbox=outbox, session=session)

    async def _internal_request(self, upstream: Upstream, message: dict[str, Any]) -> dict[str, Any]:
        return await internal_request(upstream, message, capacity=self._settings.stream_buffer_messages)

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

        upstream.mux.fan_out = fan_out
        upstream.mux.pick_session = pick_session
        upstream.mux.on_result = lambda pending, result: remember_tool_schemas(upstream, pending, result)


def _session_header(session: McpSession) -> Mapping[str, str]:
    return {SESSION_ID_HEADER: session.mcp_session_id}


def _era_not_supported(server: str) -> ProtocolEraNotSupportedError:
    """The probe's verdict, caught by :meth:`MessageBackend.modern_post`, which then bridges."""
    return ProtocolEraNotSupportedError(
        f"upstream server {server} speaks only the initialize handshake (2025-11-25 and earlier); "
        "connect with the handshake"
    )
