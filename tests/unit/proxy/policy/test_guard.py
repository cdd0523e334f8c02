"""The policy guard as a Backend wrapper: what reaches the inner backend, what is answered instead (issue #16).

The inner backend here records what it receives and answers through the same ASGI writers as the
real ones (:mod:`proxy.wire.asgi`); the real backends and upstreams are exercised in
tests/integration/proxy/policy/.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.types import Message

from app.policy.access import ServerAccess
from oauth.tokens.access_tokens import AccessTokenClaims
from proxy.policy.guard import PolicyGuard
from proxy.wire.asgi import send_json
from proxy.wire.errors import POLICY_DENIED, GatewayError, PolicyDeniedError
from proxy.wire.exchange import Exchange
from proxy.wire.jsonrpc import INVALID_REQUEST, JsonRpcMessage, JsonRpcNotification, JsonRpcRequest, encode
from proxy.wire.mcp_sessions import McpSession
from tests.unit.proxy.policy.support import access_to, request
from tests.unit.proxy.policy.test_listing import HidingGate

pytestmark = pytest.mark.anyio
TOOLS = [{"name": "read_file"}, {"name": "delete_repo"}, {"name": "read_issue"}]
CLAIMS = AccessTokenClaims("iss", "alice", "aud", "client-1", frozenset({"mcp"}), 2_000_000_000, 0, "jti-1")


class RecordingBackend:
    """Answers each request: a tools/list with :data:`TOOLS`, anything else with its method; records them."""

    server = "gh"

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []

    async def handshake_post(
        self, exchange: Exchange, session: McpSession | None, messages: list[JsonRpcMessage], body: bytes
    ) -> None:
        self.received += [m.raw for m in messages if isinstance(m, JsonRpcRequest | JsonRpcNotification)]
        answers = [self._answer(m) for m in messages if isinstance(m, JsonRpcRequest)]
        await send_json(exchange.send, 200, encode(answers if len(answers) > 1 else answers[0]))

    async def handshake_get(self, exchange: Exchange, session: McpSession) -> None:
        self.received.append({"method": "GET"})

    async def handshake_delete(self, session: McpSession) -> None:
        pass

    async def modern_post(self, exchange: Exchange, request: JsonRpcRequest, body: bytes) -> None:
        self.received.append(request.raw)
        await send_json(exchange.send, 200, encode(self._answer(request)))

    async def modern_notify(self, exchange: Exchange, notification: JsonRpcNotification, body: bytes) -> None:
        self.received.append(notification.raw)

    @staticmethod
    def _answer(message: JsonRpcRequest) -> dict[str, Any]:
        result = {"tools": TOOLS} if message.method == "tools/list" else {"method": message.method}
        return {"jsonrpc": "2.0", "id": message.id, "result": result}


class FixedDecisions:
    """A PolicyDecisions stand-in with one decision (the real cache has its own tests)."""

    def __init__(self, access: ServerAccess) -> None:
        self._access = access

    def cached(self, jwt_id: str, server: str) -> ServerAccess | None:
        return self._access

    async def access(self, claims: AccessTokenClaims, server: str) -> ServerAccess:
        return self._access


def exchange() -> tuple[Exchange, list[Message]]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    built = Exchange({"type": "http", "method": "POST", "headers": []}, receive, send, [], "gh", "alice", CLAIMS)
    return built, sent


def answer(sent: list[Message]) -> Any:
    return json.loads(b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"))


def guard(access: ServerAccess, gate: HidingGate | None = None) -> tuple[PolicyGuard, RecordingBackend]:
    inner = RecordingBackend()
    return PolicyGuard(inner, decisions=FixedDecisions(access), gate=gate), inner  # type: ignore[arg-type]


ACCESS = access_to("gh", {"tool": ["read_*"]})


async def test_a_denied_call_is_refused_and_never_reaches_the_backend_in_either_era() -> None:
    policy_guard, inner = guard(ACCESS)
    call = request("tools/call", {"name": "delete_repo"})
    with pytest.raises(PolicyDeniedError) as handshake:
        await policy_guard.handshake_post(exchange()[0], None, [call], b"")
    with pytest.raises(PolicyDeniedError) as modern:
        await policy_guard.modern_post(exchange()[0], call, b"")
    assert handshake.value.code == modern.value.code == POLICY_DENIED
    assert inner.received == []


async def test_an_allowed_call_passes_unchanged_and_is_not_intercepted() -> None:
    policy_guard, inner = guard(ACCESS)
    ex, sent = exchange()
    original = ex.send
    await policy_guard.modern_post(ex, request("tools/call", {"name": "read_file"}), b"")
    assert inner.received == [request("tools/call", {"name": "read_file"}).raw]
    assert ex.send is original and answer(sent)["result"] == {"method": "tools/call"}


async def test_tools_list_is_filtered_in_both_eras() -> None:
    policy_guard, _inner = guard(ACCESS)
    ex, sent = exchange()
    await policy_guard.modern_post(ex, request("tools/list", {}), b"")
    ex2, sent2 = exchange()
    await policy_guard.handshake_post(ex2, None, [request("tools/list", {})], b"")
    for got in (sent, sent2):
        assert [t["name"] for t in answer(got)["result"]["tools"]] == ["read_file", "read_issue"]


async def test_a_batch_with_a_denied_request_is_answered_whole_and_nothing_is_forwarded() -> None:
    """Our choice (docs/endpoints.md): the refused request gets -32012, its companions -32600; no notification goes."""
    policy_guard, inner = guard(ACCESS)
    ex, sent = exchange()
    batch: list[JsonRpcMessage] = [
        request("tools/call", {"name": "read_file"}, 1),
        request("tools/call", {"name": "delete_repo"}, 2),
        JsonRpcNotification({"jsonrpc": "2.0", "method": "notifications/progress"}),
    ]
    await policy_guard.handshake_post(ex, None, batch, b"")
    assert inner.received == []
    answers = answer(sent)
    assert [(a["id"], a["error"]["code"]) for a in answers] == [(1, INVALID_REQUEST), (2, POLICY_DENIED)]


async def test_an_allowed_batch_is_forwarded_with_its_list_answer_filtered() -> None:
    policy_guard, inner = guard(ACCESS)
    ex, sent = exchange()
    batch: list[JsonRpcMessage] = [request("tools/call", {"name": "read_file"}, 1), request("tools/list", {}, 2)]
    await policy_guard.handshake_post(ex, None, batch, b"")
    assert len(inner.received) == 2
    listed = answer(sent)[1]["result"]["tools"]
    assert [t["name"] for t in listed] == ["read_file", "read_issue"]


async def test_a_server_that_is_not_usable_refuses_initialize_get_and_drops_notifications() -> None:
    policy_guard, inner = guard(access_to("gh", {"tool": ["*"]}, usable=False))
    with pytest.raises(PolicyDeniedError):
        await policy_guard.handshake_post(exchange()[0], None, [request("initialize", {})], b"")
    with pytest.raises(PolicyDeniedError):
        await policy_guard.modern_post(exchange()[0], request("server/discover", {}), b"")
    session = McpSession("s", "alice", "gh", "2025-11-25", 0.0)
    with pytest.raises(PolicyDeniedError):
        await policy_guard.handshake_get(exchange()[0], session)
    note = JsonRpcNotification({"jsonrpc": "2.0", "method": "notifications/initialized"})
    await policy_guard.modern_notify(exchange()[0], note, b"")
    assert inner.received == []


async def test_an_exchange_without_verified_claims_is_refused() -> None:
    """Default deny: the guard never decides for an unauthenticated exchange."""
    policy_guard, inner = guard(ACCESS)
    ex, _sent = exchange()
    ex.claims = None
    with pytest.raises(PolicyDeniedError):
        await policy_guard.modern_post(ex, request("tools/list", {}), b"")
    assert inner.received == []


async def test_the_gate_is_asked_after_the_policy_and_hides_tools_with_an_open_policy() -> None:
    """Issue #16 seam order: policy first, then the gate's refusal; a gate alone still filters tools/list."""
    gate = HidingGate({"read_issue"})
    policy_guard, inner = guard(ACCESS, gate)
    with pytest.raises(PolicyDeniedError):  # denied by policy: the policy's error, not the gate's
        await policy_guard.modern_post(exchange()[0], request("tools/call", {"name": "delete_repo"}), b"")
    with pytest.raises(GatewayError, match="read_issue held"):
        await policy_guard.modern_post(exchange()[0], request("tools/call", {"name": "read_issue"}), b"")
    open_guard = PolicyGuard(inner, decisions=None, gate=gate)
    ex, sent = exchange()
    await open_guard.modern_post(ex, request("tools/list", {}), b"")
    assert [t["name"] for t in answer(sent)["result"]["tools"]] == ["read_file", "delete_repo"]
    assert inner.received == [request("tools/list", {}).raw]
