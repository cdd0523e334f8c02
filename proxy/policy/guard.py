"""The policy enforcement point: a :class:`~proxy.backends.base.Backend` wrapper, outermost on every server.

Every client transport and era reaches a server through its backend — ``/<name>/mcp`` in both eras,
the legacy ``/<name>/sse`` client side (an in-process handshake-era exchange per message), and the
era bridges, which sit below the backend — so checking here covers every path with one check:

- **requests** (:mod:`proxy.policy.targets`): a ``tools/call``, ``resources/read`` / ``subscribe`` /
  ``unsubscribe``, ``prompts/get``, ``completion/complete`` or ``subscriptions/listen`` naming a
  target the principal may not use is answered -32012 (:class:`~proxy.wire.errors.PolicyDeniedError`)
  and never reaches the upstream; on a server the principal may not use at all, every request is.
  Then, for ``tools/call``, the :class:`~proxy.policy.tool_gate.ToolGate`'s refusal (pinning).
- **lists** (:mod:`proxy.policy.listing`): for ``tools/list``, ``resources/list``,
  ``resources/templates/list`` and ``prompts/list`` the exchange's ``send`` is wrapped
  (:class:`~proxy.policy.list_send.ListFilteringSend`) so that the answer is filtered whatever
  transport wrote it. Calls are never intercepted.
- **batches** (2025-03-26 only): when any request of a batch is refused, *nothing* of the batch is
  forwarded; the client gets one JSON array answering every request of the batch: the refused ones
  with their error (-32012 / the gate's), the others with -32600 "not sent: another request of this
  batch was refused". (Our choice: all or nothing keeps a batch's requests together, and no
  denied request can reach the upstream.)

Warm cost of a call: the decision is read from :class:`~proxy.policy.decisions.PolicyDecisions`
by (``jti``, server) — a dictionary lookup — and the name's answer from the memo of
:class:`~app.policy.access.ServerAccess`. docs/adr/0016-policy-enforcement-point.md.
"""

from __future__ import annotations

from typing import Any

from app.observe import tracing
from app.policy.access import ServerAccess
from proxy.backends.base import Backend
from proxy.policy.decisions import PolicyDecisions
from proxy.policy.list_send import FilterResult, ListFilteringSend
from proxy.policy.listing import filter_result, needs_filtering
from proxy.policy.targets import policy_refusal
from proxy.policy.tool_gate import ToolGate
from proxy.wire.asgi import send_json
from proxy.wire.errors import GatewayError, InvalidRequestError, PolicyDeniedError
from proxy.wire.exchange import Exchange
from proxy.wire.jsonrpc import JsonRpcMessage, JsonRpcNotification, JsonRpcRequest, RequestId, encode
from proxy.wire.mcp_sessions import McpSession
from proxy.wire.protocol import SESSION_ID_HEADER

BATCH_REFUSED = "Invalid Request: not sent, another request of this batch was refused"


class PolicyGuard:
    """Wraps ``inner``; ``decisions`` None means the policy is open (only ``gate`` applies)."""

    def __init__(self, inner: Backend, *, decisions: PolicyDecisions | None, gate: ToolGate | None = None) -> None:
        self.server = inner.server
        self._inner = inner
        self._decisions = decisions
        self._gate = gate

    @property
    def inner(self) -> Backend:
        """The wrapped backend."""
        return self._inner

    async def _access(self, exchange: Exchange) -> ServerAccess | None:
        """The exchange's access to this server (None: open policy). Warm: one dictionary lookup, no await."""
        decisions = self._decisions
        if decisions is None:
            return None
        claims = exchange.claims
        if claims is None:  # never authenticated: nothing to decide for (default deny)
            raise PolicyDeniedError(self.server)
        warm = decisions.cached(claims.jwt_id, self.server)
        if warm is not None:
            return warm
        if tracing.ON:
            with tracing.span("portico.policy.decide", attributes={"portico.server": self.server}) as span:
                access = await decisions.access(claims, self.server)
                span.set_attribute("portico.policy.usable", access.usable)
                return access
        return await decisions.access(claims, self.server)

    def refusal(self, access: ServerAccess | None, request: JsonRpcRequest) -> GatewayError | None:
        """The error ``request`` is answered with instead of being forwarded, or None (policy, then the gate)."""
        if access is not None and (denied := policy_refusal(access, request)) is not None:
            return denied
        if self._gate is not None and request.method == "tools/call":
            name = (request.params or {}).get("name")
            return self._gate.refusal(self.server, name) if isinstance(name, str) else None
        return None

    # --- Backend ------------------------------------------------------------------------------------

    async def handshake_post(
        self, exchange: Exchange, session: McpSession | None, messages: list[JsonRpcMessage], body: bytes
    ) -> None:
        access = await self._access(exchange)
        if access is not None and not access.usable:
            raise PolicyDeniedError(self.server)
        requests = [m for m in messages if isinstance(m, JsonRpcRequest)]
        refusals = {r.id: e for r in requests if (e := self.refusal(access, r)) is not None}
        if refusals:
            if len(messages) == 1:
                raise refusals[requests[0].id]
            await self._refuse_batch(exchange, session, requests, refusals)
            return
        lists = {r.id: r.method for r in requests if needs_filtering(r.method, access, self._gate)}
        if not lists:
            await self._inner.handshake_post(exchange, session, messages, body)
            return
        original = exchange.send
        exchange.send = ListFilteringSend(original, lists, self._filter(access))
        try:
            await self._inner.handshake_post(exchange, session, messages, body)
        finally:
            exchange.send = original

    async def handshake_get(self, exchange: Exchange, session: McpSession) -> None:
        access = await self._access(exchange)
        if access is not None and not access.usable:
            raise PolicyDeniedError(self.server)
        await self._inner.handshake_get(exchange, session)

    async def handshake_delete(self, session: McpSession) -> None:
        await self._inner.handshake_delete(session)

    async def modern_post(self, exchange: Exchange, request: JsonRpcRequest, body: bytes) -> None:
        access = await self._access(exchange)
        refused = self.refusal(access, request)
        if refused is not None:
            raise refused
        if not needs_filtering(request.method, access, self._gate):
            await self._inner.modern_post(exchange, request, body)
            return
        original = exchange.send
        exchange.send = ListFilteringSend(original, {request.id: request.method}, self._filter(access))
        try:
            await self._inner.modern_post(exchange, request, body)
        finally:
            exchange.send = original

    async def modern_notify(self, exchange: Exchange, notification: JsonRpcNotification, body: bytes) -> None:
        access = await self._access(exchange)
        if access is not None and not access.usable:
            return  # nothing reaches a server the principal may not use (the caller answers 202)
        await self._inner.modern_notify(exchange, notification, body)

    # --- helpers ------------------------------------------------------------------------------------

    def _filter(self, access: ServerAccess | None) -> FilterResult:
        server, gate = self.server, self._gate

        async def apply(method: str, result: dict[str, Any]) -> dict[str, Any]:
            return await filter_result(method, result, server=server, access=access, gate=gate)

        return apply

    async def _refuse_batch(
        self,
        exchange: Exchange,
        session: McpSession | None,
        requests: list[JsonRpcRequest],
        refusals: dict[RequestId, GatewayError],
    ) -> None:
        """Answer a batch holding a refused request without forwarding any of it (see the module docstring)."""
        companion = InvalidRequestError(BATCH_REFUSED, data={"reason": "batch_refused"})
        answers = [(refusals.get(r.id) or companion).to_message(r.id) for r in requests]
        headers = {SESSION_ID_HEADER: session.mcp_session_id} if session is not None else None
        await send_json(exchange.send, 200, encode(answers), headers)
