"""Rate limits and quotas through real MCP clients and a real upstream (issue #21): -32014 with the
rule's name and ``retry_after``, HTTP 429 + ``Retry-After`` on a JSON answer, the JSON-RPC error on a
legacy SSE stream; refused calls never reach the upstream; notifications are never limited; quotas
reset at the UTC day boundary (injected clock). The stdio fixture's ``delete_repo`` appends a line to
a file per call, so "refused" also means "never arrived"."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp.shared.exceptions import MCPError

from proxy.limits.errors import RATE_LIMITED
from tests.integration.proxy.gateway.harness import (
    fixture_stdio_server,
    modern_body,
    modern_headers,
    open_raw_session,
    serve_portico,
)
from tests.integration.proxy.policy.paths import ClientKind, connect
from tests.support.clock import FakeClock

pytestmark = pytest.mark.anyio

PER_TOOL = {"name": "deletes", "key": "user+tool", "servers": ["fx"], "tools": ["delete_*"], "rate": "2/minute"}
PER_USER = {"name": "per-user", "key": "user", "servers": ["fx"], "rate": "1/hour", "burst": 3}


async def refused_code(call: Any) -> MCPError:
    with pytest.raises(MCPError) as refused:
        await call
    return refused.value


@pytest.mark.parametrize("kind", ["handshake", "modern", "legacy_sse"])
async def test_a_call_over_a_per_tool_limit_gets_32014_and_never_reaches_the_upstream(
    tmp_path: Path, kind: ClientKind
) -> None:
    marker = tmp_path / "calls"
    clock = FakeClock(datetime.now(UTC))
    async with serve_portico(tmp_path, {"fx": fixture_stdio_server()}, limits={"rules": [PER_TOOL]}, clock=clock) as p:
        async with connect(p, "fx", kind) as client:
            for _ in range(2):
                await client.call_tool("delete_repo", {"marker": str(marker)})
            error = await refused_code(client.call_tool("delete_repo", {"marker": str(marker)}))
            echoed = await client.call_tool("echo", {"text": "other tools are not covered"})
            listed = await client.list_tools()  # tools/list is not covered by a rule with tools
        async with connect(p, "fx", kind, subject="2") as other:  # another user has their own bucket
            await other.call_tool("delete_repo", {"marker": str(marker)})
    assert error.code == RATE_LIMITED
    assert error.data is not None and error.data["limit"] == "deletes" and error.data["retry_after"] == 30
    assert error.data["reason"] == "rate_limited" and "deletes" in error.message
    assert "1" not in {str(v) for k, v in error.data.items() if k != "retry_after"}  # no user's data
    assert echoed.content[0].text == "other tools are not covered"  # type: ignore[union-attr]
    assert listed.tools
    assert marker.read_text().splitlines() == ["delete_repo"] * 3


async def test_streamable_http_answers_429_with_retry_after_in_both_eras(tmp_path: Path) -> None:
    clock = FakeClock(datetime.now(UTC))
    rules = {"rules": [{**PER_USER, "burst": 2}]}
    async with serve_portico(tmp_path, {"fx": fixture_stdio_server()}, limits=rules, clock=clock) as p:
        async with httpx2.AsyncClient(timeout=30) as http:
            session = await open_raw_session(http, p, "fx")  # initialize: the first token
            headers = p.headers("fx", **{"mcp-session-id": session})
            ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
            allowed = await http.post(p.url("fx"), json=ping, headers=headers)
            handshake = await http.post(p.url("fx"), json={**ping, "id": 3}, headers=headers)
            modern = await http.post(
                p.url("fx"), json=modern_body("tools/list"), headers={**p.headers("fx"), **modern_headers("tools/list")}
            )
    assert allowed.status_code == 200
    for refused in (handshake, modern):
        assert refused.status_code == 429, refused.text
        assert refused.headers["retry-after"] == "3600"  # one token of 1/hour
        body = refused.json()
        assert body["error"]["code"] == RATE_LIMITED and body["error"]["data"]["limit"] == "per-user"
    assert handshake.json()["id"] == 3 and modern.json()["id"] == 1


async def test_notifications_and_cancellations_are_never_limited(tmp_path: Path) -> None:
    clock = FakeClock(datetime.now(UTC))
    rules = {"rules": [{**PER_USER, "burst": 1}]}
    async with serve_portico(tmp_path, {"fx": fixture_stdio_server()}, limits=rules, clock=clock) as p:
        async with httpx2.AsyncClient(timeout=30) as http:
            session = await open_raw_session(http, p, "fx")  # the one token
            headers = p.headers("fx", **{"mcp-session-id": session})
            cancel = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 99}}
            notified = [(await http.post(p.url("fx"), json=cancel, headers=headers)).status_code for _ in range(5)]
            progress = {"jsonrpc": "2.0", "method": "notifications/roots/list_changed"}
            roots = await http.post(p.url("fx"), json=progress, headers=headers)
            request = await http.post(p.url("fx"), json={"jsonrpc": "2.0", "id": 2, "method": "ping"}, headers=headers)
    assert notified == [202] * 5 and roots.status_code == 202
    assert request.status_code == 429  # requests are: the bucket is empty


async def test_a_batch_with_a_limited_request_forwards_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "calls"
    clock = FakeClock(datetime.now(UTC))
    rules = {"rules": [{**PER_TOOL, "rate": "1/minute"}]}
    async with serve_portico(tmp_path, {"fx": fixture_stdio_server()}, limits=rules, clock=clock) as p:
        async with httpx2.AsyncClient(timeout=30) as http:
            session = await open_raw_session(http, p, "fx")
            headers = p.headers("fx", **{"mcp-session-id": session, "mcp-protocol-version": "2025-03-26"})
            call = {"name": "delete_repo", "arguments": {"marker": str(marker)}}
            batch = [
                {"jsonrpc": "2.0", "id": 10, "method": "ping"},
                {"jsonrpc": "2.0", "id": 11, "method": "tools/call", "params": call},
                {"jsonrpc": "2.0", "id": 12, "method": "tools/call", "params": call},
            ]
            answered = await http.post(p.url("fx"), json=batch, headers=headers)
    codes = {item["id"]: item.get("error", {}).get("code") for item in answered.json()}
    assert codes == {10: -32600, 11: -32600, 12: RATE_LIMITED}
    assert not marker.exists()


async def test_a_daily_quota_refuses_until_the_utc_day_ends(tmp_path: Path) -> None:
    marker = tmp_path / "calls"
    clock = FakeClock(datetime(2026, 3, 31, 23, 0, tzinfo=UTC))
    quotas = {"quotas": [{"name": "daily-calls", "per": "day", "calls": 2}]}
    async with serve_portico(tmp_path, {"fx": fixture_stdio_server()}, limits=quotas, clock=clock) as p:
        async with connect(p, "fx", "modern") as client:
            await client.list_tools()  # not a tools/call: not counted
            for _ in range(2):
                await client.call_tool("delete_repo", {"marker": str(marker)})
            used_up = await refused_code(client.call_tool("echo", {"text": "x"}))
        clock.advance(3600)  # 2026-04-01 00:00 UTC: a new window
        async with connect(p, "fx", "modern") as client:
            await client.call_tool("delete_repo", {"marker": str(marker)})
    assert used_up.code == RATE_LIMITED
    assert used_up.data == {"limit": "daily-calls", "retry_after": 3600, "reason": "quota_exceeded", **_rid(used_up)}
    assert marker.read_text().splitlines() == ["delete_repo"] * 3


def _rid(error: MCPError) -> dict[str, Any]:
    data = error.data if isinstance(error.data, dict) else {}
    return {"request_id": data["request_id"]} if "request_id" in data else {}


async def test_legacy_sse_messages_are_keyed_on_the_posting_client_address(tmp_path: Path) -> None:
    """The legacy transport answers on the stream from an in-process exchange: it still carries the
    poster's address, so a ``client_address`` rule counts it with the same client's other requests."""
    rule = {"name": "per-address", "key": "client_address", "servers": ["fx"], "tools": ["echo"], "rate": "1/hour"}
    clock = FakeClock(datetime.now(UTC))
    async with serve_portico(tmp_path, {"fx": fixture_stdio_server()}, limits={"rules": [rule]}, clock=clock) as p:
        async with connect(p, "fx", "legacy_sse") as legacy:
            await legacy.call_tool("echo", {"text": "the one token of 127.0.0.1"})
        async with connect(p, "fx", "handshake", subject="2") as other_user_same_address:
            error = await refused_code(other_user_same_address.call_tool("echo", {"text": "x"}))
    assert error.code == RATE_LIMITED and error.data is not None and error.data["limit"] == "per-address"
