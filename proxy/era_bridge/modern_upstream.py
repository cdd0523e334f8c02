"""A handshake-era client served by an upstream that speaks only 2026-07-28 (Streamable HTTP or stdio).

When the upstream refuses the client's ``initialize`` (HTTP: a 4xx; stdio: a JSON-RPC error) and
answers ``server/discover`` as a 2026-07-28 server, Portico plays the server side of the handshake
itself. How one 2026-07-28 request reaches the upstream is a :data:`ModernExchange`: one stateless
POST (``modern_http_exchange.py``), or one request on the user's 2026-07-28 stdio connection
(``MessageBackend``). Then:

- ``initialize`` is answered from the upstream's ``DiscoverResult`` (its capabilities,
  instructions and ``serverInfo`` stamp; ``protocolVersion`` = the client's if Portico serves it,
  else 2025-11-25) and opens a Portico session (``Mcp-Session-Id`` Portico's own; nothing upstream);
- each request of the session becomes one stateless 2026-07-28 POST: the ``_meta`` envelope
  (protocol version, the client's ``initialize`` capabilities and ``clientInfo``) is added, with
  ``MCP-Protocol-Version``, ``Mcp-Method`` and ``Mcp-Name`` headers; the client's id is kept
  (nothing else shares the exchange). Progress and other notifications are relayed; the result
  loses the 2026-07-28-only fields (``resultType``, cache hints, sieved with the SDK's schema for
  the session's revision);
- an ``input_required`` result becomes real server→client requests on the response stream
  (``elicitation/create``, ``sampling/createMessage``, ``roots/list``, with Portico's own ids);
  the client's answers (POSTed responses) are collected and the request is retried upstream with
  ``inputResponses`` and the echoed ``requestState`` (at most 10 rounds);
- ``ping`` is answered by Portico; a client ``notifications/cancelled`` or disconnect cancels the
  upstream request (HTTP: the response is closed, 2026-07-28's signal; stdio:
  ``notifications/cancelled``); the session's GET stream carries only keep-alives (a stateless
  upstream has nothing to send outside requests).

Not bridged: ``Mcp-Param-*`` headers (tools whose schema marks ``x-mcp-header`` arguments are
refused by the upstream), subscriptions, and legacy SSE upstreams (handshake-era by definition).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import anyio
from mcp_types import (
    CLIENT_CAPABILITIES_META_KEY,
    CLIENT_INFO_META_KEY,
    PROTOCOL_VERSION_META_KEY,
    SERVER_INFO_META_KEY,
)
from mcp_types.methods import serialize_server_result
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, LATEST_HANDSHAKE_VERSION, LATEST_MODERN_VERSION
from pydantic import ValidationError

from app.config.schema import GatewayConfig
from oauth.tokens.access_tokens import AccessTokenClaims
from proxy.credentials.identity import SESSION_CLAIMS, session_claims
from proxy.wire.asgi import send_empty, send_json
from proxy.wire.delivery import deliver
from proxy.wire.errors import GatewayError, UpstreamFailedError, UpstreamTimeoutError, UpstreamUnavailableError
from proxy.wire.exchange import Exchange
from proxy.wire.jsonrpc import JsonRpcMessage, JsonRpcNotification, JsonRpcRequest, RequestId, encode
from proxy.wire.mcp_sessions import McpSession, McpSessionRegistry
from proxy.wire.outbox import Outbox, Outgoing
from proxy.wire.protocol import SESSION_ID_HEADER

MODERN_UPSTREAM: Final = "modern_upstream"
_STATE: Final = "modern_upstream_state"
_GET_STREAM: Final = "get_stream"
_MAX_ROUNDS: Final = 10
_INPUT_TIMEOUT: Final = 300.0
_MODERN_ONLY_FIELDS: Final = ("resultType", "ttlMs", "cacheScope")


ModernExchange = Callable[[str, AccessTokenClaims | None, dict[str, Any], Outbox | None], Awaitable[dict[str, Any]]]
"""``(subject, claims, request, outbox)`` → the final response message of one 2026-07-28 request sent
for ``subject`` (``claims``: the client's verified token, for a signed identity); its notifications go
to ``outbox`` when given. Raises GatewayError when no final came."""


@dataclass
class _SessionState:
    """What a bridged session holds: answers awaited from the client and the calls in flight."""

    waiting: dict[RequestId, tuple[anyio.Event, list[dict[str, Any]]]] = field(default_factory=dict)
    calls: dict[RequestId, anyio.CancelScope] = field(default_factory=dict)


class ModernUpstreamBridge:
    def __init__(
        self, server: str, *, send: ModernExchange, sessions: McpSessionRegistry, settings: GatewayConfig
    ) -> None:
        self.server = server
        self._send = send
        self._sessions = sessions
        self._settings = settings

    @staticmethod
    def owns(session: McpSession) -> bool:
        return MODERN_UPSTREAM in session.attachments

    async def initialize(self, exchange: Exchange, request: JsonRpcRequest) -> None:
        """Answer ``initialize`` from the upstream's ``server/discover`` and open a Portico session.

        Raises:
            GatewayError: the upstream could not be reached or refused ``server/discover``.
        """
        params = request.params or {}
        discover = await self._discover(exchange.subject, exchange.claims)
        requested = params.get("protocolVersion")
        negotiated = requested if requested in HANDSHAKE_PROTOCOL_VERSIONS else LATEST_HANDSHAKE_VERSION
        meta = discover.get("_meta")
        server_info = (meta if isinstance(meta, dict) else {}).get(SERVER_INFO_META_KEY) or {
            "name": self.server,
            "version": "unknown",
        }
        result: dict[str, Any] = {
            "protocolVersion": negotiated,
            "capabilities": discover.get("capabilities") or {},
            "serverInfo": server_info,
        }
        if isinstance(discover.get("instructions"), str):
            result["instructions"] = discover["instructions"]
        session = self._sessions.create(
            subject=exchange.subject,
            server=self.server,
            protocol_version=negotiated,
            initialize_params=params,
            attachments={MODERN_UPSTREAM: discover, _STATE: _SessionState(), SESSION_CLAIMS: exchange.claims},
        )
        body = encode({"jsonrpc": "2.0", "id": request.id, "result": result})
        await send_json(exchange.send, 200, body, {SESSION_ID_HEADER: session.mcp_session_id})

    async def post(self, exchange: Exchange, session: McpSession, messages: list[JsonRpcMessage]) -> None:
        """A POST of a bridged session: answers go to waiting input requests, requests upstream."""
        state = _state(session)
        headers = {SESSION_ID_HEADER: session.mcp_session_id}
        requests = [m for m in messages if isinstance(m, JsonRpcRequest)]
        for message in messages:
            if isinstance(message, JsonRpcNotification):
                if message.method == "notifications/cancelled":
                    scope = state.calls.get((message.params or {}).get("requestId", ""))
                    if scope is not None:
                        scope.cancel()
            elif not isinstance(message, JsonRpcRequest):
                waiting = state.waiting.pop(message.raw.get("id", ""), None)
                if waiting is not None:
                    waiting[1].append(message.raw)
                    waiting[0].set()
        if not requests:
            await send_empty(exchange.send, 202, headers)
            return
        outbox = Outbox(
            self._settings.stream_buffer_messages, f"{self.server}[{session.subject}]", finals=len(requests)
        )
        async with anyio.create_task_group() as group:
            for request in requests:
                group.start_soon(self._call, session, request, outbox)

            async def abandon() -> None:
                group.cancel_scope.cancel()  # closes the upstream responses: 2026-07-28's cancellation

            await deliver(
                exchange,
                outbox,
                modern=False,
                keepalive=self._settings.keepalive_interval,
                headers=headers,
                allow_json=len(requests) == 1,
                on_disconnect=abandon,
            )

    async def get(self, exchange: Exchange, session: McpSession) -> None:
        """The session's GET stream: keep-alives only, until DELETE."""
        outbox = Outbox(1, f"{self.server}[{session.subject}]/GET")
        session.attachments[_GET_STREAM] = outbox
        headers = {SESSION_ID_HEADER: session.mcp_session_id}
        keepalive = self._settings.keepalive_interval
        await deliver(exchange, outbox, modern=False, keepalive=keepalive, headers=headers, allow_json=False)

    def delete(self, session: McpSession) -> None:
        stream = session.attachments.pop(_GET_STREAM, None)
        if isinstance(stream, Outbox):
            stream.close()
        for scope in _state(session).calls.values():
            scope.cancel()

    # --- one request ------------------------------------------------------------------------------

    async def _call(self, session: McpSession, request: JsonRpcRequest, outbox: Outbox) -> None:
        state = _state(session)
        with anyio.CancelScope() as scope:
            state.calls[request.id] = scope
            try:
                outbox.put(Outgoing(await self._answer(session, request, outbox), final=True))
            except GatewayError as error:
                outbox.put(Outgoing(error.to_message(request.id), final=True, http_status=error.http_status))
            finally:
                state.calls.pop(request.id, None)
        if scope.cancelled_caught:
            cancelled = {"jsonrpc": "2.0", "id": request.id, "error": {"code": -32800, "message": "Request cancelled"}}
            outbox.put(Outgoing(cancelled, final=True))

    async def _answer(self, session: McpSession, request: JsonRpcRequest, outbox: Outbox) -> dict[str, Any]:
        if request.method == "ping":
            return {"jsonrpc": "2.0", "id": request.id, "result": {}}
        params = dict(request.params or {})
        for _ in range(_MAX_ROUNDS):
            message = {**request.raw, "params": {**params, "_meta": self._envelope(session, params)}}
            final = await self._exchange(session, message, outbox)
            result = final.get("result")
            if not isinstance(result, dict) or result.get("resultType") != "input_required":
                return {**final, "id": request.id, **({"result": self._shape(session, request.method, result)})}
            params["inputResponses"] = await self._ask_client(session, result.get("inputRequests") or {}, outbox)
            if isinstance(result.get("requestState"), str):
                params["requestState"] = result["requestState"]
            else:
                params.pop("requestState", None)
        raise UpstreamFailedError(f"upstream server {self.server} asked for input more than {_MAX_ROUNDS} times")

    def _shape(self, session: McpSession, method: str, result: object) -> object:
        if not isinstance(result, dict):
            return result
        try:
            return serialize_server_result(method, session.protocol_version, result)
        except (KeyError, ValueError, ValidationError):
            return {key: value for key, value in result.items() if key not in _MODERN_ONLY_FIELDS}

    def _envelope(self, session: McpSession, params: Mapping[str, Any]) -> dict[str, Any]:
        initialize = session.initialize_params or {}
        meta = params.get("_meta")
        envelope = {
            **(meta if isinstance(meta, dict) else {}),
            PROTOCOL_VERSION_META_KEY: LATEST_MODERN_VERSION,
            CLIENT_CAPABILITIES_META_KEY: initialize.get("capabilities") or {},
        }
        if isinstance(initialize.get("clientInfo"), dict):
            envelope[CLIENT_INFO_META_KEY] = initialize["clientInfo"]
        return envelope

    async def _ask_client(self, session: McpSession, requests: Mapping[str, Any], outbox: Outbox) -> dict[str, Any]:
        """Send each input request to the client on the response stream; collect the results by key."""
        state = _state(session)
        asked: dict[str, tuple[str, anyio.Event, list[dict[str, Any]]]] = {}
        for key, input_request in requests.items():
            portico_id = f"portico-input-{secrets.token_hex(8)}"
            event, answer = anyio.Event(), list[dict[str, Any]]()
            state.waiting[portico_id] = (event, answer)
            asked[key] = (portico_id, event, answer)
            request = {"jsonrpc": "2.0", "id": portico_id, **_request_fields(input_request)}
            outbox.put(Outgoing(request))
        responses: dict[str, Any] = {}
        try:
            with anyio.fail_after(_INPUT_TIMEOUT):
                for key, (_id, event, answer) in asked.items():
                    await event.wait()
                    if "result" not in answer[0]:
                        raise UpstreamFailedError(f"the client refused the {key} input request")
                    responses[key] = answer[0]["result"]
        except TimeoutError as error:
            raise UpstreamTimeoutError("the client did not answer the server's input request in time") from error
        finally:
            for portico_id, _event, _answer in asked.values():
                state.waiting.pop(portico_id, None)
        return responses

    # --- the upstream ---------------------------------------------------------------------------------

    async def _discover(self, subject: str, claims: AccessTokenClaims | None) -> dict[str, Any]:
        probe = {"jsonrpc": "2.0", "id": 0, "method": "server/discover", "params": {}}
        envelope = {PROTOCOL_VERSION_META_KEY: LATEST_MODERN_VERSION, CLIENT_CAPABILITIES_META_KEY: {}}
        probe["params"] = {"_meta": envelope}
        final = await self._send(subject, claims, probe, None)
        result = final.get("result")
        if not isinstance(result, dict):
            raise UpstreamUnavailableError(f"upstream server {self.server} did not answer server/discover")
        return result

    async def _exchange(self, session: McpSession, message: dict[str, Any], outbox: Outbox) -> dict[str, Any]:
        return await self._send(session.subject, session_claims(session), message, outbox)


def _state(session: McpSession) -> _SessionState:
    state = session.attachments[_STATE]
    assert isinstance(state, _SessionState)
    return state


def _request_fields(input_request: object) -> dict[str, Any]:
    if not isinstance(input_request, dict):
        return {"method": "", "params": {}}
    return {"method": input_request.get("method", ""), "params": input_request.get("params") or {}}
