"""Many client requests over one upstream connection: id and token remapping, message routing."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

import pytest

from proxy.upstream.multiplexer import Multiplexer
from proxy.wire.errors import UpstreamFailedError
from proxy.wire.mcp_sessions import McpSessionRegistry
from proxy.wire.outbox import Outbox, Outgoing

pytestmark = pytest.mark.anyio


class Wire:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.later: list[Coroutine[Any, Any, None]] = []

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    def spawn(self, task: Any) -> None:
        self.later.append(task())

    async def flush(self) -> None:
        for task in self.later:
            await task
        self.later.clear()


def outbox() -> Outbox:
    return Outbox(16, "test")


async def drained(box: Outbox) -> list[dict[str, Any]]:
    box.close()
    items: list[dict[str, Any]] = []
    while (item := await box.get()) is not None:
        items.append(item.message)
    return items


@pytest.fixture
def sessions() -> McpSessionRegistry:
    return McpSessionRegistry(idle_timeout=60, max_sessions=10, max_sessions_per_user=10)


async def test_colliding_client_ids_get_distinct_upstream_ids_and_come_back_unchanged(
    sessions: McpSessionRegistry,
) -> None:
    """Spec-mandated (JSON-RPC 2.0 §5): a response carries its request's id; ours are remapped upstream."""
    wire = Wire()
    mux = Multiplexer(wire.send, wire.spawn, label="t")
    a, b = (
        sessions.create(subject="1", server="s", protocol_version="v"),
        sessions.create(subject="1", server="s", protocol_version="v"),
    )
    box_a, box_b = outbox(), outbox()
    request = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"_meta": {"progressToken": 1}}}
    await mux.request(request, outbox=box_a, session=a)
    await mux.request(request, outbox=box_b, session=b)
    ids = [m["id"] for m in wire.sent]
    tokens = [m["params"]["_meta"]["progressToken"] for m in wire.sent]
    assert len(set(ids)) == 2 and tokens == ids
    mux.on_message(
        {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": ids[1], "progress": 5}}
    )
    mux.on_message({"jsonrpc": "2.0", "id": ids[1], "result": {"b": True}})
    mux.on_message({"jsonrpc": "2.0", "id": ids[0], "result": {"a": True}})
    assert await drained(box_b) == [
        {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": 1, "progress": 5}},
        {"jsonrpc": "2.0", "id": 1, "result": {"b": True}},
    ]
    assert await drained(box_a) == [{"jsonrpc": "2.0", "id": 1, "result": {"a": True}}]
    assert mux.in_flight == 0


async def test_a_client_cancellation_names_the_upstream_id_and_ends_the_clients_stream(
    sessions: McpSessionRegistry,
) -> None:
    """Spec (cancellation.mdx): the upstream sends no response, so Portico ends the stream with -32800."""
    wire = Wire()
    mux = Multiplexer(wire.send, wire.spawn, label="t")
    session = sessions.create(subject="1", server="s", protocol_version="v")
    box = outbox()
    await mux.request({"jsonrpc": "2.0", "id": "c-7", "method": "tools/call"}, outbox=box, session=session)
    upstream_id = wire.sent[0]["id"]
    await mux.notify({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "c-7"}}, session)
    await mux.notify(
        {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "unknown"}}, session
    )
    assert wire.sent[1]["params"]["requestId"] == upstream_id
    assert len(wire.sent) == 2 and mux.in_flight == 0
    assert (await drained(box))[-1]["error"]["code"] == -32800


async def test_listen_frames_are_routed_by_subscription_id() -> None:
    wire = Wire()
    mux = Multiplexer(wire.send, wire.spawn, label="t")
    box = outbox()
    await mux.request({"jsonrpc": "2.0", "id": "L", "method": "subscriptions/listen"}, outbox=box, session=None)
    key = "io.modelcontextprotocol/subscriptionId"
    frame = {
        "jsonrpc": "2.0",
        "method": "notifications/tools/list_changed",
        "params": {"_meta": {key: wire.sent[0]["id"]}},
    }
    mux.on_message(frame)
    assert (await drained(box))[0]["params"]["_meta"][key] == "L"


async def test_server_requests_go_to_the_only_request_in_flight_and_answers_go_back(
    sessions: McpSessionRegistry,
) -> None:
    wire = Wire()
    mux = Multiplexer(wire.send, wire.spawn, label="t")
    box = outbox()
    session = sessions.create(subject="1", server="s", protocol_version="v")
    await mux.request({"jsonrpc": "2.0", "id": 1, "method": "tools/call"}, outbox=box, session=session)
    mux.on_message({"jsonrpc": "2.0", "id": 99, "method": "elicitation/create", "params": {}})
    await mux.respond({"jsonrpc": "2.0", "id": 99, "result": {"action": "accept"}})
    await mux.respond({"jsonrpc": "2.0", "id": 99, "result": {"action": "again"}})
    assert (await drained(box))[0]["method"] == "elicitation/create"
    assert [m.get("result") for m in wire.sent[1:]] == [{"action": "accept"}]


async def test_pings_are_answered_and_unroutable_requests_refused() -> None:
    wire = Wire()
    mux = Multiplexer(wire.send, wire.spawn, label="t")
    mux.on_message({"jsonrpc": "2.0", "id": "p", "method": "ping"})
    mux.on_message({"jsonrpc": "2.0", "id": "s", "method": "sampling/createMessage", "params": {}})
    await wire.flush()
    assert wire.sent[0] == {"jsonrpc": "2.0", "id": "p", "result": {}}
    assert wire.sent[1]["id"] == "s" and wire.sent[1]["error"]["code"] == -32603


async def test_unrelated_notifications_fan_out_when_nothing_is_in_flight() -> None:
    wire = Wire()
    mux = Multiplexer(wire.send, wire.spawn, label="t")
    fanned: list[dict[str, Any]] = []
    mux.fan_out = fanned.append
    mux.on_message({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})
    mux.on_message({"not": "json-rpc"})
    assert fanned == [{"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}]


async def test_fail_all_ends_every_request_with_the_error() -> None:
    wire = Wire()
    mux = Multiplexer(wire.send, wire.spawn, label="t")
    boxes = [outbox(), outbox()]
    for n, box in enumerate(boxes):
        await mux.request({"jsonrpc": "2.0", "id": n, "method": "x"}, outbox=box, session=None)
    mux.fail_all(UpstreamFailedError("upstream server s exited with code 3"))
    for n, box in enumerate(boxes):
        item: Outgoing | None = await box.get()
        assert item is not None and item.final and item.http_status == 502
        assert (item.message["id"], item.message["error"]["code"]) == (n, -32004)


async def test_a_failed_write_forgets_the_request() -> None:
    async def broken(_message: dict[str, Any]) -> None:
        raise UpstreamFailedError("gone")

    mux = Multiplexer(broken, lambda task: None, label="t")
    with pytest.raises(UpstreamFailedError):
        await mux.request({"jsonrpc": "2.0", "id": 1, "method": "x"}, outbox=outbox(), session=None)
    assert mux.in_flight == 0
