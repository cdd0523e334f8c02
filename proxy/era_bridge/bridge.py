"""A 2026-07-28 client served by an upstream that speaks only the initialize handshake.

One upstream session per (user, server, client capabilities) — key
``(server, user, "bridge/<capability set>")`` in the connection pool, always per user (a parked
request belongs to one user) — initialized once by Portico (``initialize`` at 2025-11-25
declaring the capabilities the request's envelope declares, then ``notifications/initialized``),
so the upstream shapes what it offers (e.g. elicitation tools) on this client's capabilities
alone (``capability_sets.py``, ADR 0007). Every stateless request is then one request on that session
under a fresh id (``multiplexer.py``):

- ``server/discover`` → answered from the cached ``InitializeResult`` (``envelope.py``);
- any other request → its envelope stripped and sent up; progress streams back by token; the
  result is reshaped as a 2026-07-28 result; closing the response stream sends
  ``notifications/cancelled`` upstream;
- the upstream's ``ping`` is answered by the multiplexer, ``roots/list`` here (no roots);
- the upstream's ``elicitation/create`` / ``sampling/createMessage`` during the client's only
  ``tools/call`` / ``prompts/get`` / ``resources/read`` in flight → that request is parked
  (``parking.py``) and the client gets ``input_required`` with ``inputRequests`` and a
  ``requestState`` (``request_state.py``); its retry with ``inputResponses`` answers the upstream's
  request and streams the rest of the original call. Asked while the client did not declare the
  capability → the upstream gets -32021 (missing client capability); asked while several client
  requests are in flight (stdio has no related-request marker) → refused like any unroutable
  server request.

- ``subscriptions/listen`` → answered by Portico from the session's ``list_changed``
  notifications (``listen.py``).

Not bridged: resource subscriptions (``resourceSubscriptions`` is never acknowledged and the
``subscribe`` capability flag is not advertised) and ``Mcp-Param-*`` validation (the handshake
upstream never sees headers).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final

import anyio

from app.config.schema import GatewayConfig
from proxy.era_bridge.envelope import (
    client_capabilities,
    discover_result,
    handshake_input_response,
    modern_result,
    strip_envelope,
)
from proxy.era_bridge.listen import Listeners
from proxy.era_bridge.parking import HoldingOutbox, ParkedRequest, ParkedRequests
from proxy.era_bridge.request_state import InvalidRequestStateError
from proxy.upstream.calls import internal_request
from proxy.upstream.capability_sets import capability_set
from proxy.upstream.connection import MessageConnection
from proxy.upstream.multiplexer import Pending
from proxy.upstream.pool import Upstream, UpstreamKey, UpstreamPool
from proxy.wire.asgi import send_json
from proxy.wire.deadline import DeadlineLimits, RequestDeadline, RequestTimeoutError
from proxy.wire.delivery import deliver
from proxy.wire.errors import GatewayError, RelayedUpstreamError
from proxy.wire.exchange import Exchange
from proxy.wire.jsonrpc import (
    INVALID_PARAMS,
    MISSING_REQUIRED_CLIENT_CAPABILITY,
    JsonRpcNotification,
    JsonRpcRequest,
    encode,
    error_message,
)
from proxy.wire.outbox import Outbox, Outgoing

log = logging.getLogger("portico.proxy")
Connect = Callable[[str | None], Awaitable[MessageConnection]]
BRIDGE_ERA: Final = "bridge"
_HANDSHAKE_VERSION: Final = "2025-11-25"
_INTERACTIVE: Final = frozenset({"tools/call", "prompts/get", "resources/read"})
_INPUT_CAPABILITY: Final = {"elicitation/create": "elicitation", "sampling/createMessage": "sampling"}
_INITIALIZE_PARAMS: Final = {
    "protocolVersion": _HANDSHAKE_VERSION,
    "clientInfo": {"name": "portico-era-bridge", "version": "1"},
}


class HandshakeBridge:
    """Serves 2026-07-28 requests of one configured server from handshake-era upstream sessions."""

    def __init__(
        self,
        server: str,
        *,
        connect: Connect,
        pool: UpstreamPool,
        settings: GatewayConfig,
        parked: ParkedRequests,
        limits: DeadlineLimits | None = None,
    ) -> None:
        self.server = server
        self._limits = limits
        self._connect = connect
        self._pool = pool
        self._settings = settings
        self._parked = parked
        self._listeners: dict[Upstream, Listeners] = {}

    async def serve(self, exchange: Exchange, request: JsonRpcRequest) -> None:
        """Answer one validated 2026-07-28 request (see the module docstring).

        Raises:
            InvalidRequestStateError: a retry whose ``requestState`` is not valid (-32602, 400).
            GatewayError: the upstream could not be started or refused the handshake.
        """
        upstream = await self._acquire(exchange.subject, client_capabilities(request.raw))
        if request.method == "server/discover":
            result = discover_result(upstream.initialize_result or {})
            await send_json(exchange.send, 200, encode({"jsonrpc": "2.0", "id": request.id, "result": result}))
            return
        if request.method == "subscriptions/listen":
            await self._listen(exchange, upstream, request)
            return
        params = request.params or {}
        if "requestState" in params:
            await self._resume(exchange, request)
            return
        outbox = self._outbox(exchange.subject)
        capabilities = client_capabilities(request.raw)
        message = strip_envelope(request.raw)
        pending = await upstream.mux.request(message, outbox=outbox, session=None, client_capabilities=capabilities)
        await self._deliver(exchange, upstream, pending, outbox)

    async def notify(self, exchange: Exchange, notification: JsonRpcNotification) -> None:
        """2026-07-28 client notifications have nothing to map to on the bridged session (dropped)."""
        log.debug("%s: client notification %s not bridged", self.server, notification.method)

    # --- the upstream session -------------------------------------------------------------------

    async def _acquire(self, subject: str, capabilities: dict[str, Any]) -> Upstream:
        key = UpstreamKey(self.server, subject, f"{BRIDGE_ERA}/{capability_set(capabilities)}")
        return await self._pool.acquire(key, lambda: self._connect(subject), self._handshake_with(capabilities))

    def _handshake_with(self, capabilities: dict[str, Any]) -> Callable[[Upstream], Awaitable[None]]:
        async def handshake(upstream: Upstream) -> None:
            self._wire(upstream)
            params = {**_INITIALIZE_PARAMS, "capabilities": capabilities}
            initialize = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": params}
            response = await internal_request(upstream, initialize, capacity=self._settings.stream_buffer_messages)
            if "error" in response:
                raise RelayedUpstreamError(response["error"])
            upstream.initialize_result = response.get("result") or {}
            await upstream.mux.notify({"jsonrpc": "2.0", "method": "notifications/initialized"}, None)

        return handshake

    def _wire(self, upstream: Upstream) -> None:
        def shape(pending: Pending, result: dict[str, Any]) -> dict[str, Any]:
            if pending.client_capabilities is None:
                return result  # Portico's own request (initialize)
            return modern_result(pending.method, result, upstream.initialize_result or {})

        listeners = self._listeners[upstream] = Listeners()

        def ended(error: GatewayError) -> None:
            self._listeners.pop(upstream, None)
            listeners.end_all(error)

        upstream.mux.shape_result = shape
        upstream.mux.on_server_request = lambda request: self._on_server_request(upstream, request)
        upstream.mux.on_notification = listeners.deliver
        upstream.mux.on_failure = ended

    async def _listen(self, exchange: Exchange, upstream: Upstream, request: JsonRpcRequest) -> None:
        """A ``subscriptions/listen`` stream fed by the session's list_changed notifications (``listen.py``)."""
        listeners = self._listeners.get(upstream)
        if listeners is None:
            listeners = self._listeners[upstream] = Listeners()
        outbox = self._outbox(exchange.subject)
        listener = listeners.open(request, upstream.initialize_result or {}, outbox)
        keepalive = self._settings.keepalive_interval
        try:
            await deliver(exchange, outbox, modern=True, keepalive=keepalive, headers={}, allow_json=False)
        finally:
            listeners.close(listener)

    # --- server→client requests ------------------------------------------------------------------

    def _on_server_request(self, upstream: Upstream, request: JsonRpcRequest) -> bool:
        if request.method == "roots/list":
            self._answer(upstream, {"jsonrpc": "2.0", "id": request.id, "result": {"roots": []}})
            return True
        capability = _INPUT_CAPABILITY.get(request.method)
        target = upstream.mux.single_in_flight()
        if capability is None or target is None or target.client_capabilities is None:
            return False
        if capability not in target.client_capabilities:
            message = f"the client did not declare the {capability} capability"
            self._answer(upstream, error_message(request.id, MISSING_REQUIRED_CLIENT_CAPABILITY, message))
            return True
        if target.method not in _INTERACTIVE:
            return False
        self._park(upstream, target, request, capability)
        return True

    def _park(self, upstream: Upstream, pending: Pending, request: JsonRpcRequest, input_key: str) -> None:
        subject = upstream.key.subject or ""
        holding = HoldingOutbox(f"{self.server}[{subject}]/parked")
        parked = ParkedRequest(upstream, pending, request.id, input_key, subject, self.server, holding)
        client_outbox, pending.outbox = pending.outbox, holding
        parked_id, state = self._parked.park(parked)
        input_request = {"method": request.method, "params": request.params or {}}
        result = {"resultType": "input_required", "inputRequests": {input_key: input_request}, "requestState": state}
        shaped = modern_result(pending.method, result, upstream.initialize_result or {})
        client_outbox.put(Outgoing({"jsonrpc": "2.0", "id": pending.client_id, "result": shaped}, final=True))

        async def expire() -> None:
            await anyio.sleep(self._parked.codec.lifetime)
            if (dropped := self._parked.drop(parked_id)) is not None:
                refusal = error_message(dropped.server_request_id, INVALID_PARAMS, "the client did not answer in time")
                await upstream.mux.answer(refusal)
                await upstream.mux.cancel(dropped.pending, "the client did not answer the input request in time")

        self._pool.spawn(expire)

    async def _resume(self, exchange: Exchange, request: JsonRpcRequest) -> None:
        params = request.params or {}
        parked = self._parked.claim(params.get("requestState"), subject=exchange.subject, server=self.server)
        pending, upstream = parked.pending, parked.upstream
        if request.method != pending.method:
            raise InvalidRequestStateError(f"Invalid params: requestState belongs to a {pending.method} request")
        outbox = self._outbox(exchange.subject)
        pending.client_id = request.id
        pending.client_capabilities = client_capabilities(request.raw)
        token = ((params.get("_meta") or {}) if isinstance(params.get("_meta"), dict) else {}).get("progressToken")
        if pending.progress_token is not None and token is not None:
            pending.progress_token = token
        pending.outbox = outbox
        for item in parked.holding.held:
            outbox.put(item if not item.final else Outgoing({**item.message, "id": request.id}, final=True))
        responses = params.get("inputResponses")
        response = responses.get(parked.input_key) if isinstance(responses, dict) else None
        if isinstance(response, dict):
            reply = {"jsonrpc": "2.0", "id": parked.server_request_id, "result": handshake_input_response(response)}
        else:
            reply = error_message(parked.server_request_id, INVALID_PARAMS, "the client sent no input response")
        await upstream.mux.answer(reply)
        await self._deliver(exchange, upstream, pending, outbox)

    # --- shared -----------------------------------------------------------------------------------

    def _answer(self, upstream: Upstream, message: dict[str, Any]) -> None:
        async def answer() -> None:
            await upstream.mux.answer(message)

        self._pool.spawn(answer)

    def _outbox(self, subject: str) -> Outbox:
        return Outbox(self._settings.stream_buffer_messages, f"{self.server}[{subject}]/bridged", server=self.server)

    async def _deliver(self, exchange: Exchange, upstream: Upstream, pending: Pending, outbox: Outbox) -> None:
        upstream.touch()

        async def cancel() -> None:
            if pending.outbox is outbox:  # not parked meanwhile
                await upstream.mux.cancel(pending, "client closed the response stream")

        async def expire(error: RequestTimeoutError) -> None:
            if pending.outbox is outbox:  # parked meanwhile: its final answer is already in the outbox
                await upstream.mux.expire(pending, error)

        await deliver(
            exchange,
            outbox,
            modern=True,
            keepalive=self._settings.keepalive_interval,
            headers={},
            on_disconnect=cancel,
            deadline=RequestDeadline(self._limits) if self._limits is not None else None,
            on_expire=expire,
        )
