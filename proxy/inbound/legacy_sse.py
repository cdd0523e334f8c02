"""The client side of the legacy HTTP+SSE transport (2024-11-05 basic/transports §HTTP with SSE).

``GET /<name>/sse`` opens the stream; its first event is ``endpoint``, naming Portico's own message
URL ``/<name>/sse/messages?session_id=<192-bit random>`` (never the upstream's). Each message the
client POSTs there is answered ``202 Accepted``; replies and server→client messages arrive as
``message`` events, with a ``: keep-alive`` comment after each idle ``gateway.keepalive_interval``.

Both routes are the ``/<name>/sse`` protected resource: every GET and every POST carries a bearer
token whose ``aud`` is that URL (a ``/<name>/mcp`` token is refused, 401 with a challenge naming
the ``/sse`` resource metadata). A ``session_id`` is bound to the user who opened it: presented by
anyone else (or on another server's route) it is answered like an unknown one, 404.

The stream reaches every upstream transport through the same :class:`~proxy.backends.base.Backend` as
``/<name>/mcp``: a legacy session plays one handshake-era client session, and each message is
handed to the backend on an in-process exchange whose response (JSON or SSE) is unpacked into
``message`` events. Notifications and responses are handed over before the 202 (so their order
holds); requests run concurrently, and end when the stream closes.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

import anyio
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from starlette.types import Message, Receive, Scope, Send

from app.db_outage import DatabaseUnavailableError
from app.observe import tracing
from oauth.tokens.access_tokens import AccessTokenClaims
from proxy.backends.base import Backend
from proxy.gateway import Gateway
from proxy.inbound.observed import ObservedExchange
from proxy.inbound.open_exchanges import Kind, OpenExchange, OpenExchanges
from proxy.inbound.origin import OriginPolicy
from proxy.inbound.spans import annotate, failed, inbound_span
from proxy.wire.asgi import (
    header_values,
    read_body,
    request_headers,
    send_chunk,
    send_empty,
    send_json,
    start_sse,
    wait_for_disconnect,
)
from proxy.wire.errors import (
    CapacityExceededError,
    DatabaseUnavailableGatewayError,
    GatewayError,
    InvalidRequestError,
    MethodNotAllowedError,
    ParseError,
    SessionNotFoundError,
    ShuttingDownError,
    UnknownServerError,
)
from proxy.wire.exchange import Exchange
from proxy.wire.jsonrpc import (
    InvalidMessageError,
    JsonRpcMessage,
    JsonRpcNotification,
    JsonRpcRequest,
    RequestId,
    decode_json,
    encode,
    parse_message,
)
from proxy.wire.mcp_sessions import McpSession
from proxy.wire.protocol import PROTOCOL_VERSION_HEADER, SESSION_ID_HEADER
from proxy.wire.sse import KEEPALIVE, SseDecoder, message_event

_Handle = Callable[
    ["LegacySseSession", Backend, JsonRpcMessage, bytes, AccessTokenClaims | None, ObservedExchange | None],
    Coroutine[Any, Any, None],
]
log = logging.getLogger("portico.proxy.legacy_sse")
_CLOSE_GRACE: Final = 2.0


class LegacySseSessions(dict[str, "LegacySseSession"]):
    """The open legacy streams of one app by ``session_id``, shared by the stream and message endpoints."""


@dataclass(eq=False)
class LegacySseSession:
    """One open ``GET /<name>/sse`` stream and the handshake-era session it plays upstream."""

    session_id: str
    subject: str
    server: str
    outgoing: MemoryObjectSendStream[dict[str, Any]]
    handlers: TaskGroup
    claims: AccessTokenClaims | None = None
    """The verified claims of the token that opened the stream (each POST's own claims go with its message)."""
    closed: anyio.Event = field(default_factory=anyio.Event)
    mcp_session_id: str | None = None
    protocol_version: str | None = None
    listening: bool = False
    pending: set[RequestId] = field(default_factory=set)
    """Ids of the client's requests not answered yet (the stream is busy while there are any)."""
    cancelled: set[RequestId] = field(default_factory=set)
    """Ids answered by Portico at shutdown (-32000): a late upstream answer to them is dropped."""
    client: tuple[str, int] | None = None
    """The address of the client's latest POST (the in-process exchanges carry it to the backend)."""


class LegacySseEndpoint:
    """``GET /<name>/sse`` (the stream) and ``POST /<name>/sse/messages`` (the message endpoint)."""

    def __init__(
        self,
        gateway: Gateway,
        *,
        origins: OriginPolicy,
        sessions: LegacySseSessions,
        messages: bool,
        exchanges: OpenExchanges,
    ) -> None:
        self.gateway = gateway
        self.origins = origins
        self.legacy_sessions = sessions
        self._messages = messages
        self._exchanges = exchanges

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._messages and self.gateway.events.observes_mcp:
            await self._observe_refusal(scope, receive, send)
            return
        await self._answer(scope, receive, send)

    async def _observe_refusal(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A message POST refused before its message was handed over (401, unknown ``session_id``,
        bad JSON …) gives one record with ``method`` ``""``, as on ``/<server>/mcp``; a handed-over
        message is recorded by :meth:`_handle` once its reply is on the stream."""
        observed = ObservedExchange(scope, receive, send, transport="sse")
        exchange = Exchange(
            scope, receive, send, request_headers(scope), str(scope.get("path_params", {}).get("server", ""))
        )
        try:
            exchange.claims = await self._answer(scope, receive, observed.send)
        except BaseException as refused:  # answered outside (401/403): record its status
            observed.status = observed.status or int(getattr(refused, "status_code", 500))
            raise
        finally:
            if exchange.claims is None or observed.status >= 400:
                observed.report(self.gateway.events, exchange, "2024-11-05-sse", decisions=None)

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> AccessTokenClaims | None:
        """Serve the stream or the message POST; the claims once authenticated (None if refused before)."""
        server = str(scope.get("path_params", {}).get("server", ""))
        started = False
        claims: AccessTokenClaims | None = None

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            try:
                backend, claims = await self._admit(scope, receive, server)
                if self._messages:
                    await self._post(scope, receive, tracking_send, claims, backend)
                else:
                    await self._open_stream(receive, tracking_send, server, claims, backend)
            except DatabaseUnavailableError as outage:
                raise DatabaseUnavailableGatewayError.of(outage) from None
        except GatewayError as error:
            if not started:
                await send_json(send, error.http_status, encode(error.to_message(None)), error.headers)
        return claims

    async def _admit(self, scope: Scope, receive: Receive, server: str) -> tuple[Backend, AccessTokenClaims]:
        """Method (405), ``Origin`` (403), bearer token for ``/<name>/sse`` (401/403), then server lookup (404).

        An unknown name is authenticated against the resource it would be, so without a valid token
        it is answered exactly like a known one.
        """
        gateway = self.gateway
        backend = gateway.backends.get(server)
        resource, known = gateway.resources.for_path_or_assumed(server, "sse")
        allowed = "POST" if self._messages else "GET"
        if scope["method"] != allowed:
            raise MethodNotAllowedError("Method Not Allowed", headers={"allow": allowed})
        headers = request_headers(scope)
        self.origins.check(next((v for k, v in headers if k == "origin"), None))
        claims = gateway.authenticator.authenticate(header_values(headers, "authorization"), resource)
        if backend is None or not known:
            raise UnknownServerError(f"Not Found: no MCP server named {server!r}")
        return backend, claims

    # --- GET /<name>/sse ----------------------------------------------------------------------------

    async def _open_stream(
        self, receive: Receive, send: Send, server: str, claims: AccessTokenClaims, backend: Backend
    ) -> None:
        """The stream, registered as open (shutdown and token lifetime end it: ADR 0012)."""
        started: list[LegacySseSession] = []

        def busy() -> bool:
            return bool(started and started[0].pending)

        async def cancel_pending() -> None:
            if started:
                await self._cancel_pending(started[0], backend)

        opened = OpenExchange(
            Kind.STREAM, server, claims.jwt_id, claims.expires_at, receive, send, busy, cancel_pending
        )
        self._exchanges.open(opened)
        try:
            await self._stream(opened, server, claims, backend, started.append)
        finally:
            self._exchanges.release(opened)
            await opened.finish(None, self._exchanges.shutdown_grace)

    async def _cancel_pending(self, session: LegacySseSession, backend: Backend) -> None:
        """Shutdown past the grace period: -32000 for each pending request, ``notifications/cancelled`` upstream."""
        grace = self._exchanges.shutdown_grace
        for request_id in list(session.pending):
            session.cancelled.add(request_id)
            await _put(session, ShuttingDownError(grace).to_message(request_id), force=True)
            params = {"requestId": request_id, "reason": "server shutting down"}
            cancel = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": params}
            await self._handle(session, backend, JsonRpcNotification(cancel), encode(cancel))

    async def _stream(
        self,
        opened: OpenExchange,
        server: str,
        claims: AccessTokenClaims,
        backend: Backend,
        on_session: Callable[[LegacySseSession], None],
    ) -> None:
        receive, send = opened.receive, opened.send
        subject = claims.subject
        registry = self.legacy_sessions
        settings = self.gateway.settings
        if sum(1 for s in registry.values() if s.subject == subject) >= settings.max_sessions_per_user:
            raise CapacityExceededError("Too many open sessions", headers={"retry-after": "5"})
        outgoing, incoming = anyio.create_memory_object_stream[dict[str, Any]](settings.stream_buffer_messages)
        async with anyio.create_task_group() as handlers:
            session = LegacySseSession(secrets.token_urlsafe(24), subject, server, outgoing, handlers, claims)
            registry[session.session_id] = session
            on_session(session)
            try:
                await start_sse(send)
                endpoint = f"{urlsplit(self.gateway.public_url).path.rstrip('/')}/{server}/sse/messages"
                await send_chunk(
                    send, f"event: endpoint\ndata: {endpoint}?session_id={session.session_id}\n\n".encode()
                )
                async with anyio.create_task_group() as streaming:
                    streaming.start_soon(_write_events, send, incoming, settings.keepalive_interval)
                    await wait_for_disconnect(receive)
                    streaming.cancel_scope.cancel()
                if opened.ending is not None:  # Portico ends the stream: what is queued still goes out
                    await _flush(send, incoming)
            finally:
                del registry[session.session_id]
                session.closed.set()
                incoming.close()
                handlers.cancel_scope.deadline = anyio.current_time() + _CLOSE_GRACE
        with anyio.CancelScope(shield=True):
            await self._end(session, backend)

    async def _end(self, session: LegacySseSession, backend: Backend) -> None:
        if session.mcp_session_id is None:
            return
        mcp_session = self.gateway.sessions.remove(session.mcp_session_id)
        if mcp_session is not None:
            await backend.handshake_delete(mcp_session)

    # --- POST /<name>/sse/messages -----------------------------------------------------------------

    async def _post(
        self, scope: Scope, receive: Receive, send: Send, claims: AccessTokenClaims, backend: Backend
    ) -> None:
        session = self._session(scope, claims.subject, backend.server)
        session.client = scope.get("client")  # the poster's address, for client_address rate limits
        body = await read_body(receive)
        message = _parse(body)
        observed = None
        if self.gateway.events.observes_mcp:  # one record per message, once its reply is on the stream
            observed = ObservedExchange(scope, receive, send, transport="sse")
            observed.body.append(body)
            observed.bytes_in = len(body)
        handle: _Handle = self._handle if not tracing.ON else self._traced_handle(scope)
        if isinstance(message, JsonRpcRequest):
            session.handlers.start_soon(handle, session, backend, message, body, claims, observed)
        else:
            await handle(session, backend, message, body, claims, observed)
        await send_empty(send, 202)

    def _traced_handle(self, scope: Scope) -> _Handle:
        """:meth:`_handle` inside the message's SERVER span (its answer goes to the stream, not to this POST)."""

        async def handle(
            session: LegacySseSession,
            backend: Backend,
            message: JsonRpcMessage,
            body: bytes,
            claims: AccessTokenClaims | None = None,
            observed: ObservedExchange | None = None,
        ) -> None:
            with inbound_span(scope, "tcp"):
                annotate([message], session.mcp_session_id, None)
                await self._handle(session, backend, message, body, claims, observed)

        return handle

    def _session(self, scope: Scope, subject: str, server: str) -> LegacySseSession:
        values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("session_id", [])
        if len(values) != 1:
            raise InvalidRequestError("Bad Request: session_id is required")
        session = self.legacy_sessions.get(values[0])
        if (
            session is None
            or session.closed.is_set()
            or not secrets.compare_digest(session.subject, subject)
            or session.server != server
        ):
            raise SessionNotFoundError("Session not found")
        return session

    async def _handle(
        self,
        session: LegacySseSession,
        backend: Backend,
        message: JsonRpcMessage,
        body: bytes,
        claims: AccessTokenClaims | None = None,
        observed: ObservedExchange | None = None,
    ) -> None:
        """Hand one message to the backend as a handshake-era POST (as the user of ``claims``, else of
        the stream's); its answer goes to the stream (and, when ``observed``, to its record)."""
        request_id = message.id if isinstance(message, JsonRpcRequest) else None
        exchange = self._exchange(session, claims=claims)
        if observed is not None:
            observed.watch(exchange)
            exchange.messages = [message.raw]
        if request_id is not None:
            session.pending.add(request_id)
        try:
            if isinstance(message, JsonRpcRequest) and message.method == "initialize":
                await backend.handshake_post(exchange, None, [message], body)
                return
            mcp_session = self._mcp_session(session)
            await backend.handshake_post(exchange, mcp_session, [message], body)
            if isinstance(message, JsonRpcNotification) and message.method == "notifications/initialized":
                self._listen(session, backend, mcp_session)
        except DatabaseUnavailableError as outage:  # on the stream, its HTTP status cannot be sent
            if request_id is not None:
                await _put(session, _noted(observed, DatabaseUnavailableGatewayError.of(outage).to_message(request_id)))
        except GatewayError as error:
            if tracing.ON:
                failed(error)
            if request_id is not None:
                await _put(session, _noted(observed, error.to_message(request_id)))
        finally:
            if request_id is not None:
                session.pending.discard(request_id)
            if observed is not None:
                observed.report(
                    self.gateway.events,
                    exchange,
                    "2024-11-05-sse",
                    decisions=self.gateway.policy_decisions,
                    mcp_session_id=session.mcp_session_id,
                )

    def _mcp_session(self, session: LegacySseSession) -> McpSession:
        if session.mcp_session_id is None:
            raise InvalidRequestError("Invalid Request: send initialize first")
        return self.gateway.sessions.lookup(session.mcp_session_id, subject=session.subject, server=session.server)

    def _listen(self, session: LegacySseSession, backend: Backend, mcp_session: McpSession) -> None:
        """Open the session's server→client stream once, for messages not tied to a request."""
        if session.listening:
            return
        session.listening = True
        mcp_session.streams_open += 1  # the legacy stream keeps the session from idle expiry

        async def listen() -> None:
            try:
                await backend.handshake_get(self._exchange(session, method="GET"), mcp_session)
            except GatewayError as error:
                log.info("%s: no server→client stream for a legacy session: %s", session.server, error.message)

        session.handlers.start_soon(listen)

    def _exchange(
        self, session: LegacySseSession, method: str = "POST", claims: AccessTokenClaims | None = None
    ) -> Exchange:
        headers = [("accept", "application/json, text/event-stream"), ("content-type", "application/json")]
        if session.protocol_version is not None:
            headers.append((PROTOCOL_VERSION_HEADER, session.protocol_version))
        scope: Scope = {"type": "http", "method": method, "headers": [], "path": f"/{session.server}/sse"}
        if session.client is not None:
            scope["client"] = session.client

        async def receive() -> Message:
            await session.closed.wait()
            return {"type": "http.disconnect"}

        unpacker = _Unpacker(session, self._on_initialized(session), self.gateway.settings.max_message_bytes)
        exchange = Exchange(scope, receive, unpacker.send, headers, session.server)
        exchange.subject = session.subject
        exchange.claims = claims or session.claims
        return exchange

    def _on_initialized(self, session: LegacySseSession) -> Callable[[str, dict[str, Any]], None]:
        def record(mcp_session_id: str, message: dict[str, Any]) -> None:
            if session.mcp_session_id is None:
                session.mcp_session_id = mcp_session_id
                version = (message.get("result") or {}).get("protocolVersion")
                session.protocol_version = version if isinstance(version, str) else None

        return record


class _Unpacker:
    """An ASGI ``send`` that turns one backend response (JSON or SSE) into messages on the legacy stream."""

    def __init__(
        self, session: LegacySseSession, on_session: Callable[[str, dict[str, Any]], None], max_message_bytes: int
    ) -> None:
        self._session = session
        self._max_message_bytes = max_message_bytes
        self._on_session = on_session
        self._mcp_session_id: str | None = None
        self._sse: SseDecoder | None = None
        self._body = b""

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in message.get("headers", [])}
            self._mcp_session_id = headers.get(SESSION_ID_HEADER.lower())
            if headers.get("content-type", "").startswith("text/event-stream"):
                self._sse = SseDecoder(max_event_bytes=self._max_message_bytes)
            return
        chunk: bytes = message.get("body", b"")
        if self._sse is not None:
            for event in self._sse.feed(chunk):
                if event.is_message and event.data is not None:
                    await self._deliver(json.loads(event.data))
            return
        self._body += chunk
        if not message.get("more_body", False) and self._body:
            try:
                decoded = json.loads(self._body)
            except ValueError:
                return
            for item in decoded if isinstance(decoded, list) else [decoded]:
                if isinstance(item, dict) and item.get("jsonrpc") == "2.0":
                    await self._deliver(item)

    async def _deliver(self, message: dict[str, Any]) -> None:
        if self._mcp_session_id is not None and "result" in message:
            self._on_session(self._mcp_session_id, message)
        await _put(self._session, message)


def _noted(observed: ObservedExchange | None, answer: dict[str, Any]) -> dict[str, Any]:
    """``answer`` (Portico's own error on the stream), noted in the message's record when observed."""
    if observed is not None:
        observed.note_answer(answer)
    return answer


async def _put(session: LegacySseSession, message: dict[str, Any], *, force: bool = False) -> None:
    if not force and message.get("id") in session.cancelled and ("result" in message or "error" in message):
        return  # Portico already answered it (-32000 at shutdown)
    try:
        await session.outgoing.send(message)
    except (anyio.BrokenResourceError, anyio.ClosedResourceError):
        log.debug("%s: legacy stream closed; message dropped", session.server)


async def _write_events(send: Send, incoming: MemoryObjectReceiveStream[dict[str, Any]], keepalive: float) -> None:
    while True:
        message: dict[str, Any] | None = None
        with anyio.move_on_after(keepalive):
            message = await incoming.receive()
        await send_chunk(send, KEEPALIVE if message is None else message_event(encode(message)))


async def _flush(send: Send, incoming: MemoryObjectReceiveStream[dict[str, Any]]) -> None:
    """Write what is already queued (e.g. the -32000 answers of a shutdown), without waiting for more."""
    while True:
        try:
            message = incoming.receive_nowait()
        except (anyio.WouldBlock, anyio.EndOfStream, anyio.ClosedResourceError):
            return
        await send_chunk(send, message_event(encode(message)))


def _parse(body: bytes) -> JsonRpcMessage:
    """One JSON-RPC message (2024-11-05 has no batches).

    Raises:
        ParseError: not JSON. InvalidRequestError: not one valid JSON-RPC message.
    """
    try:
        decoded = decode_json(body)
    except ValueError as error:
        raise ParseError("Parse error: body is not valid JSON") from error
    try:
        return parse_message(decoded)
    except InvalidMessageError as error:
        raise InvalidRequestError(f"Invalid Request: {error}") from error
