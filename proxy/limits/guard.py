"""The rate-limit enforcement point on the MCP plane: :class:`LimitGuard`, a Backend wrapper.

Installed by :class:`~proxy.gateway.Gateway` only on servers that a rule or quota names, just inside
the :class:`~proxy.policy.guard.PolicyGuard` (so a request the policy or pinning refuses takes no
token) — and outermost when no policy guard is installed. Like the policy guard, it sees every
client request on every transport and era (Streamable HTTP both eras, legacy SSE, era bridges).

- **requests** only: notifications (cancellations included), responses and GET streams are never
  limited. A request over a limit is answered -32014 (:class:`~proxy.limits.errors.RateLimitedError`)
  and never reaches the upstream.
- **batches** (2025-03-26): when one request of a batch is refused, nothing of it is forwarded; the
  refused get -32014, the others -32600 "not sent" (as the policy guard does). Tokens the others
  took stay taken (conservative).
- **cost**: a request no rule covers costs a memo lookup (≈0.5 µs, no clock read, no I/O); one that
  is covered makes one store call (a dictionary update in process; with Redis one round trip, or a
  dictionary lookup and a decrement when this process holds leased tokens: app/limits/lease.py).
"""

from __future__ import annotations

from app.limits.counts import LIMITED
from app.limits.limiter import Limiter
from app.limits.rules import Identity, ServerLimits
from proxy.backends.base import Backend
from proxy.limits.errors import RateLimitedError
from proxy.wire.asgi import send_json
from proxy.wire.errors import GatewayError, InvalidRequestError
from proxy.wire.exchange import Exchange
from proxy.wire.jsonrpc import JsonRpcMessage, JsonRpcNotification, JsonRpcRequest, RequestId, encode
from proxy.wire.mcp_sessions import McpSession
from proxy.wire.protocol import SESSION_ID_HEADER

BATCH_REFUSED = "Invalid Request: not sent, another request of this batch was rate limited"


class LimitGuard:
    """Wraps ``inner`` with the server's compiled ``limits``, checked by ``limiter``."""

    def __init__(self, inner: Backend, *, limits: ServerLimits, limiter: Limiter) -> None:
        self.server = inner.server
        self._inner = inner
        self._limits = limits
        self._limiter = limiter

    @property
    def inner(self) -> Backend:
        """The wrapped backend."""
        return self._inner

    async def refusal(self, exchange: Exchange, request: JsonRpcRequest) -> RateLimitedError | None:
        """The error ``request`` is answered with instead of being forwarded, or None (it took its tokens)."""
        tool = None
        if request.method == "tools/call":
            name = (request.params or {}).get("name")
            tool = name if isinstance(name, str) else None
        rules, quotas = self._limits.rules_for(request.method, tool)
        if not rules and not quotas:
            return None  # the no-match path: two tuple checks after a memo lookup
        now = self._limiter.clock.now()
        items = self._limits.items_of(rules, quotas, tool, _identity(exchange), now)
        refused = await self._limiter.take(items, now)
        if refused is None:
            return None
        LIMITED.add(refused.rule, "mcp")
        return RateLimitedError(refused)

    # --- Backend ------------------------------------------------------------------------------------

    async def handshake_post(
        self, exchange: Exchange, session: McpSession | None, messages: list[JsonRpcMessage], body: bytes
    ) -> None:
        requests = [m for m in messages if isinstance(m, JsonRpcRequest)]
        refusals: dict[RequestId, GatewayError] = {}
        for request in requests:
            if (refused := await self.refusal(exchange, request)) is not None:
                refusals[request.id] = refused
        if not refusals:
            await self._inner.handshake_post(exchange, session, messages, body)
            return
        if len(messages) == 1:
            raise refusals[requests[0].id]
        companion = InvalidRequestError(BATCH_REFUSED, data={"reason": "batch_refused"})
        answers = [(refusals.get(r.id) or companion).to_message(r.id) for r in requests]
        headers = {SESSION_ID_HEADER: session.mcp_session_id} if session is not None else None
        await send_json(exchange.send, 200, encode(answers), headers)

    async def handshake_get(self, exchange: Exchange, session: McpSession) -> None:
        await self._inner.handshake_get(exchange, session)

    async def handshake_delete(self, session: McpSession) -> None:
        await self._inner.handshake_delete(session)

    async def modern_post(self, exchange: Exchange, request: JsonRpcRequest, body: bytes) -> None:
        refused = await self.refusal(exchange, request)
        if refused is not None:
            raise refused
        await self._inner.modern_post(exchange, request, body)

    async def modern_notify(self, exchange: Exchange, notification: JsonRpcNotification, body: bytes) -> None:
        await self._inner.modern_notify(exchange, notification, body)


def _identity(exchange: Exchange) -> Identity:
    claims = exchange.claims
    client = exchange.scope.get("client")
    address = client[0] if client else None
    if claims is None:
        return Identity(exchange.subject or None, None, address)
    return Identity(claims.subject, claims.client_id, address)
