"""The list-filtering ``send``: JSON bodies and SSE events of list answers, nothing else touched (issue #16)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.types import Message

from proxy.policy.list_send import ListFilteringSend
from proxy.wire.asgi import end_body, send_chunk, send_empty, send_json, start_sse
from proxy.wire.jsonrpc import encode
from proxy.wire.sse import KEEPALIVE, SseDecoder, message_event

pytestmark = pytest.mark.anyio
TOOLS = {"tools": [{"name": "read_file"}, {"name": "delete_repo"}], "nextCursor": "c2"}


async def only_read_tools(method: str, result: dict[str, Any]) -> dict[str, Any]:
    assert method == "tools/list"
    return {**result, "tools": [t for t in result["tools"] if t["name"].startswith("read_")]}


def recorder() -> tuple[list[Message], Any]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    return sent, send


def body_of(sent: list[Message]) -> bytes:
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def events_of(sent: list[Message]) -> list[Any]:
    return SseDecoder(1 << 20).feed(body_of(sent))


async def test_a_json_answer_is_filtered_and_its_content_length_rewritten() -> None:
    sent, send = recorder()
    filtering = ListFilteringSend(send, {7: "tools/list"}, only_read_tools)
    await send_json(filtering, 200, encode({"jsonrpc": "2.0", "id": 7, "result": TOOLS}), {"mcp-session-id": "s"})
    body = body_of(sent)
    assert json.loads(body)["result"] == {"tools": [{"name": "read_file"}], "nextCursor": "c2"}
    headers = dict(sent[0]["headers"])
    assert headers[b"content-length"] == str(len(body)).encode()
    assert headers[b"mcp-session-id"] == b"s"


async def test_a_batch_answer_has_only_the_list_response_filtered() -> None:
    sent, send = recorder()
    filtering = ListFilteringSend(send, {"b": "tools/list"}, only_read_tools)
    answers = [{"jsonrpc": "2.0", "id": "a", "result": TOOLS}, {"jsonrpc": "2.0", "id": "b", "result": TOOLS}]
    await send_json(filtering, 200, encode(answers))
    first, second = json.loads(body_of(sent))
    assert (len(first["result"]["tools"]), len(second["result"]["tools"])) == (2, 1)


async def test_sse_filters_the_answer_event_and_passes_every_other_event_untouched() -> None:
    """Progress, a server→client request reusing the id, list_changed and keep-alives pass as sent."""
    sent, send = recorder()
    filtering = ListFilteringSend(send, {1: "tools/list"}, only_read_tools)
    progress = message_event(encode({"jsonrpc": "2.0", "method": "notifications/progress", "params": {}}))
    server_request = message_event(encode({"jsonrpc": "2.0", "id": 1, "method": "roots/list", "result": TOOLS}))
    changed = message_event(encode({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}))
    answer = message_event(encode({"jsonrpc": "2.0", "id": 1, "result": TOOLS}), event_id="e9")
    await start_sse(filtering)
    for frame in (progress, KEEPALIVE, server_request, changed, answer, changed):
        await send_chunk(filtering, frame)
    await end_body(filtering)
    chunks = [m["body"] for m in sent if m["type"] == "http.response.body"]
    assert chunks[:4] == [progress, KEEPALIVE, server_request, changed]
    assert chunks[5:] == [changed, b""]  # after the answer: passed through without parsing
    filtered = SseDecoder(1 << 20).feed(chunks[4])[0]
    assert filtered.id == "e9" and filtered.event == "message"
    assert json.loads(filtered.data or "")["result"] == {"tools": [{"name": "read_file"}], "nextCursor": "c2"}


async def test_an_event_split_across_sends_is_held_only_until_it_completes() -> None:
    sent, send = recorder()
    filtering = ListFilteringSend(send, {1: "tools/list"}, only_read_tools)
    answer = message_event(encode({"jsonrpc": "2.0", "id": 1, "result": TOOLS}))
    await start_sse(filtering)
    await send_chunk(filtering, KEEPALIVE + answer[:20])
    assert body_of(sent) == KEEPALIVE  # the complete frame went on at once
    await send_chunk(filtering, answer[20:])
    await end_body(filtering)
    events = events_of(sent)
    assert [json.loads(e.data)["result"]["tools"] for e in events] == [[{"name": "read_file"}]]


async def test_answers_to_other_ids_errors_and_empty_responses_pass_unchanged() -> None:
    sent, send = recorder()
    filtering = ListFilteringSend(send, {1: "tools/list"}, only_read_tools)
    other = encode({"jsonrpc": "2.0", "id": 2, "result": TOOLS})
    await send_json(filtering, 200, other)
    assert body_of(sent) == other
    sent2, send2 = recorder()
    await send_empty(ListFilteringSend(send2, {1: "tools/list"}, only_read_tools), 202)
    assert sent2[0]["status"] == 202
    sent3, send3 = recorder()
    error = encode({"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "no"}})
    await send_json(ListFilteringSend(send3, {1: "tools/list"}, only_read_tools), 200, error)
    assert body_of(sent3) == error
