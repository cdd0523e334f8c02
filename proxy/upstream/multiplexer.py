"""Many client requests over one upstream message connection, without collisions.

One stdio process (or, next, one legacy SSE connection) serves every concurrent request of a
user, possibly from several client sessions whose JSON-RPC ids and progress tokens overlap. So
every request gets a fresh upstream id (an integer unique on the connection); a progress token
becomes that same integer, and a ``subscriptions/listen`` id is what listen frames carry in
``_meta["io.modelcontextprotocol/subscriptionId"]``. Everything coming back is mapped to the
client's own values before delivery (JSON-RPC 2.0 §5: the response id equals the request id).

Routing of what the upstream sends (basic/utilities/progress.mdx, cancellation.mdx):

- a response → the request it answers (final message of that request's stream);
- ``notifications/progress`` → the request that owns the token;
- a listen frame → the listen request named by its subscription id;
- ``notifications/cancelled`` for one of its own requests → wherever that request went;
- a request (sampling, elicitation, roots) → the only request in flight if there is exactly one,
  else the most recently used session's GET stream, else it is refused with an error reply;
  ``ping`` is answered by Portico;
- any other notification → the only request in flight, else every session's GET stream.

The stdio wire carries no "related request" marker, so the last two rules are heuristics; they
only ever choose among one user's own streams (connections are per user).

On a session bridged for 2026-07-28 clients (``proxy/era_bridge``) hooks apply first:
``on_server_request`` may take a server request (roots, elicitation, sampling),
``on_notification`` a notification (list_changed for ``subscriptions/listen`` streams),
``shape_result`` reshapes each result into its 2026-07-28 form, and ``on_failure`` hears
that the connection ended.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Final

from proxy.wire.errors import GatewayError, UpstreamFailedError
from proxy.wire.jsonrpc import (
    INTERNAL_ERROR,
    JsonRpcError,
    JsonRpcNotification,
    JsonRpcRequest,
    JsonRpcResponse,
    RequestId,
    error_message,
    parse_message,
)
from proxy.wire.mcp_sessions import McpSession
from proxy.wire.outbox import Outbox, Outgoing

log = logging.getLogger("portico.proxy")
SUBSCRIPTION_ID_META_KEY: Final = "io.modelcontextprotocol/subscriptionId"
REQUEST_CANCELLED: Final = -32800  # LSP's RequestCancelled; the SDK's 2025-era HTTP transport uses it too
_LISTEN: Final = "subscriptions/listen"

Send = Callable[[dict[str, Any]], Awaitable[None]]
Spawn = Callable[[Callable[[], Coroutine[Any, Any, None]]], None]
FanOut = Callable[[dict[str, Any]], None]
SessionPicker = Callable[[], McpSession | None]


@dataclass(eq=False)
class Pending:
    """A client request in flight on the upstream connection."""

    upstream_id: int
    client_id: RequestId
    method: str
    outbox: Outbox
    session: McpSession | None
    progress_token: object | None = None
    internal: bool = False
    # Set for a 2026-07-28 request bridged onto a handshake-era session (proxy/era_bridge).
    client_capabilities: dict[str, Any] | None = None

    @property
    def is_listen(self) -> bool:
        return self.method == _LISTEN


class Multiplexer:
    def __init__(self, send: Send, spawn: Spawn, *, label: str) -> None:
        self._send = send
        self._spawn = spawn
        self._label = label
        self._ids = itertools.count(1)
        self._pending: dict[int, Pending] = {}
        self._by_client: dict[tuple[int, RequestId], Pending] = {}
        self._server_requests: dict[RequestId, Outbox] = {}
        self.fan_out: FanOut = lambda _message: None
        self.pick_session: SessionPicker = lambda: None
        self.on_result: Callable[[Pending, dict[str, Any]], None] = lambda _pending, _result: None
        # Era bridging (proxy/era_bridge): reshape results; take server→client requests first.
        self.shape_result: Callable[[Pending, dict[str, Any]], dict[str, Any]] = lambda _pending, result: result
        self.on_server_request: Callable[[JsonRpcRequest], bool] = lambda _request: False
        self.on_notification: Callable[[JsonRpcNotification], bool] = lambda _notification: False
        self.on_failure: Callable[[GatewayError], None] = lambda _error: None

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    async def request(
        self,
        message: dict[str, Any],
        *,
        outbox: Outbox,
        session: McpSession | None,
        internal: bool = False,
        client_capabilities: dict[str, Any] | None = None,
    ) -> Pending:
        """Send a request upstream under a fresh id; its messages arrive in ``outbox``.

        ``internal`` marks Portico's own requests (handshake, schema fetch): they never receive
        messages routed by the "only request in flight" rule. ``client_capabilities`` marks a
        2026-07-28 request bridged onto a handshake-era session (``proxy/era_bridge``).

        Raises:
            UpstreamFailedError: the connection could not take the message.
        """
        upstream_id = next(self._ids)
        rewritten, token = _rewrite_request(message, upstream_id)
        pending = Pending(upstream_id, message["id"], message["method"], outbox, session, token, internal)
        pending.client_capabilities = client_capabilities
        self._pending[upstream_id] = pending
        if session is not None:
            self._by_client[(id(session), pending.client_id)] = pending
        try:
            await self._send(rewritten)
        except GatewayError:
            self._forget(pending)
            raise
        return pending

    async def cancel(self, pending: Pending, reason: str) -> None:
        """Abandon a request and tell the upstream (cancellation.mdx; 2026-07-28 stdio: notifications/cancelled)."""
        if self._forget(pending):
            params = {"requestId": pending.upstream_id, "reason": reason}
            await self._send_quietly({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": params})

    async def expire(self, pending: Pending, error: GatewayError) -> None:
        """End a request with Portico's ``error`` (its deadline passed); cancel it upstream (cancellation.mdx)."""
        if self._forget(pending):
            pending.outbox.put(Outgoing(error.to_message(pending.client_id), final=True, http_status=error.http_status))
            params = {"requestId": pending.upstream_id, "reason": error.message}
            await self._send_quietly({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": params})

    async def notify(self, message: dict[str, Any], session: McpSession | None) -> None:
        """Forward a client notification; a ``notifications/cancelled`` is mapped to the upstream id.

        A cancelled request gets no response from the upstream (cancellation.mdx), so its client
        stream is ended here with -32800 "Request cancelled", as the SDK's 2025-era HTTP transport does.
        """
        if message.get("method") == "notifications/cancelled":
            params = message.get("params") or {}
            request_id: RequestId = params.get("requestId", "")
            pending = self._by_client.get((id(session), request_id)) if session else None
            if pending is None:
                return
            self._forget(pending)
            message = {**message, "params": {**params, "requestId": pending.upstream_id}}
            cancelled = error_message(pending.client_id, REQUEST_CANCELLED, "Request cancelled")
            pending.outbox.put(Outgoing(cancelled, final=True))
        await self._send(message)

    async def answer(self, message: dict[str, Any]) -> None:
        """Send Portico's own reply to a request the upstream sent (ids are the upstream's)."""
        await self._send_quietly(message)

    def abandon(self, pending: Pending) -> None:
        """Stop tracking a request whose client has gone (its response, if any, is dropped)."""
        self._forget(pending)

    async def respond(self, message: dict[str, Any]) -> None:
        """Forward a client's answer to a request the upstream sent (ids are the upstream's own)."""
        request_id: RequestId = message.get("id", "")
        if self._server_requests.pop(request_id, None) is not None:
            await self._send(message)

    def fail_all(self, error: GatewayError) -> None:
        """End every request in flight with ``error`` (e.g. the process exited)."""
        self.on_failure(error)
        for pending in list(self._pending.values()):
            self._forget(pending)
            pending.outbox.put(Outgoing(error.to_message(pending.client_id), final=True, http_status=error.http_status))

    def _forget(self, pending: Pending) -> bool:
        if self._pending.pop(pending.upstream_id, None) is None:
            return False
        if pending.session is not None:
            self._by_client.pop((id(pending.session), pending.client_id), None)
        return True

    async def _send_quietly(self, message: dict[str, Any]) -> None:
        try:
            await self._send(message)
        except GatewayError:
            log.debug("%s: could not send %s upstream", self._label, message.get("method"))

    # --- what the upstream sends -----------------------------------------------------------------

    def on_message(self, value: object) -> None:
        """Route one message read from the upstream (called by the connection's reader, which hands the dict over)."""
        try:
            message = parse_message(value)
        except ValueError:
            log.warning("%s: ignored a line that is not a JSON-RPC message", self._label)
            return
        if isinstance(message, JsonRpcResponse | JsonRpcError):
            self._on_response(message.raw, message.id)
        elif isinstance(message, JsonRpcRequest):
            self._on_request(message)
        else:
            self._on_notification(message)

    def _on_response(self, raw: dict[str, Any], upstream_id: RequestId | None) -> None:
        pending = self._pending.get(upstream_id) if isinstance(upstream_id, int) else None
        if pending is None:
            log.debug("%s: response for no pending request dropped", self._label)
            return
        self._forget(pending)
        # ``raw`` was decoded from the upstream's line for this call alone: rewritten in place.
        if isinstance(result := raw.get("result"), dict):
            self.on_result(pending, result)
            raw["result"] = self.shape_result(pending, result)
        raw["id"] = pending.client_id
        pending.outbox.put(Outgoing(raw, final=True))

    def _on_request(self, request: JsonRpcRequest) -> None:
        if request.method == "ping":
            self._reply(request.id, {"jsonrpc": "2.0", "id": request.id, "result": {}})
            return
        if self.on_server_request(request):
            return
        target = self.single_in_flight()
        if target is not None and target.session is None:
            target = None  # a 2026-07-28 request has no back-channel for server requests
        outbox = target.outbox if target is not None else self._session_outbox()
        if outbox is None or not outbox.put(Outgoing(request.raw)):
            self._reply(request.id, error_message(request.id, INTERNAL_ERROR, "no client stream can take this request"))
            return
        self._server_requests[request.id] = outbox

    def _on_notification(self, notification: JsonRpcNotification) -> None:
        params = notification.params or {}
        method = notification.method
        if self.on_notification(notification):
            return
        if method == "notifications/progress":
            self._route_progress(notification.raw, params)
        elif isinstance(meta := params.get("_meta"), dict) and SUBSCRIPTION_ID_META_KEY in meta:
            self._route_listen_frame(notification.raw, params, meta)
        elif method == "notifications/cancelled" and params.get("requestId") in self._server_requests:
            self._server_requests.pop(params["requestId"]).put(Outgoing(notification.raw))
        elif (target := self.single_in_flight()) is not None:
            target.outbox.put(Outgoing(notification.raw))
        else:
            self.fan_out(notification.raw)

    def _route_progress(self, raw: dict[str, Any], params: dict[str, Any]) -> None:
        token = params.get("progressToken")
        pending = self._pending.get(token) if isinstance(token, int) else None
        if pending is None or pending.progress_token is None:
            return
        pending.outbox.put(Outgoing({**raw, "params": {**params, "progressToken": pending.progress_token}}))

    def _route_listen_frame(self, raw: dict[str, Any], params: dict[str, Any], meta: dict[str, Any]) -> None:
        subscription = meta[SUBSCRIPTION_ID_META_KEY]
        pending = self._pending.get(subscription) if isinstance(subscription, int) else None
        if pending is None:
            return
        restored = {**params, "_meta": {**meta, SUBSCRIPTION_ID_META_KEY: pending.client_id}}
        pending.outbox.put(Outgoing({**raw, "params": restored}))

    def single_in_flight(self) -> Pending | None:
        """The one client request in flight (listens and Portico's own excluded), if exactly one."""
        candidates = [p for p in self._pending.values() if not p.is_listen and not p.internal]
        return candidates[0] if len(candidates) == 1 else None

    def _session_outbox(self) -> Outbox | None:
        session = self.pick_session()
        stream = session.attachments.get("get_stream") if session is not None else None
        return stream if isinstance(stream, Outbox) else None

    def _reply(self, request_id: RequestId, message: dict[str, Any]) -> None:
        async def reply() -> None:
            await self._send_quietly(message)

        self._spawn(reply)


def _rewrite_request(message: dict[str, Any], upstream_id: int) -> tuple[dict[str, Any], object | None]:
    """The request with ``id`` (and a progress token, if any) replaced by ``upstream_id``."""
    rewritten = {**message, "id": upstream_id}
    params = message.get("params")
    meta = params.get("_meta") if isinstance(params, dict) else None
    if not isinstance(meta, dict) or "progressToken" not in meta:
        return rewritten, None
    assert isinstance(params, dict)
    rewritten["params"] = {**params, "_meta": {**meta, "progressToken": upstream_id}}
    return rewritten, meta["progressToken"]


def upstream_failure(label: str, detail: str) -> UpstreamFailedError:
    return UpstreamFailedError(f"upstream server {label} {detail}")
