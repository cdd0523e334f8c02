"""One McpRequestRecord per client JSON-RPC message on every client transport and era, with its facts."""

from __future__ import annotations

import json
from pathlib import Path

import httpx2
import pytest
from mcp.shared.exceptions import MCPError

from proxy.wire.errors import POLICY_DENIED
from tests.integration.observe.recorder import RecordingObserver
from tests.integration.proxy.gateway.harness import (
    fixture_http_server,
    fixture_stdio_server,
    initialize_body,
    open_raw_session_2025_03,
    serve_portico,
)
from tests.integration.proxy.policy.paths import POLICY, connect

pytestmark = pytest.mark.anyio


async def test_a_handshake_era_tool_call_is_recorded_with_who_what_and_outcome(tmp_path: Path) -> None:
    async with serve_portico(tmp_path, {"files": fixture_stdio_server()}) as portico:
        observer = RecordingObserver()
        portico.runtime.events.add_mcp(observer)
        async with portico.client("files", subject="7", mode="legacy") as client:
            await client.call_tool("echo", {"text": "secret-argument"})
    (call,) = observer.of("tools/call")
    assert (call.server, call.target, call.era, call.transport) == ("files", "echo", "handshake", "streamable-http")
    assert (call.subject, call.client_id, call.outcome, call.http_status) == ("7", "c", "ok", 200)
    assert call.mcp_session_id and call.client_address == "127.0.0.1"
    assert call.request_id and call.duration > 0 and call.bytes_in > 0 and call.bytes_out > 0
    assert call.policy is None  # no policy configured
    assert "secret-argument" not in repr(call)
    assert observer.of("initialize") and observer.of("notifications/initialized")


async def test_a_modern_era_call_and_an_upstream_error_are_recorded(tmp_path: Path) -> None:
    async with serve_portico(tmp_path, {"files": fixture_stdio_server()}) as portico:
        observer = RecordingObserver()
        portico.runtime.events.add_mcp(observer)
        async with portico.client("files") as client:
            await client.call_tool("echo", {"text": "x"})
            with pytest.raises(MCPError):
                await client.read_resource("fixture://does-not-exist")
    (call,) = observer.of("tools/call")
    assert (call.era, call.outcome, call.target) == ("2026-07-28", "ok", "echo")
    (read,) = observer.of("resources/read")
    assert read.outcome == "error" and read.error_code is not None and read.target == "fixture://does-not-exist"


async def test_a_denied_call_is_recorded_as_denied_by_the_policy(tmp_path: Path) -> None:
    async with serve_portico(tmp_path, {"files": fixture_stdio_server()}, policy=POLICY) as portico:
        observer = RecordingObserver()
        portico.runtime.events.add_mcp(observer)
        async with portico.client("files", mode="legacy") as client:
            with pytest.raises(MCPError):
                await client.call_tool("delete_repo", {"marker": "m"})
            await client.call_tool("echo", {"text": "x"})
    denied, allowed = observer.of("tools/call")
    assert (denied.target, denied.outcome, denied.error_code, denied.policy) == (
        "delete_repo",
        "error",
        POLICY_DENIED,
        "denied",
    )
    assert (allowed.target, allowed.outcome, allowed.policy) == ("echo", "ok", "allowed")
    assert (denied.policy_rule, allowed.policy_rule) == ("policy.default", "policy.rules[1]")  # everyone-reads


@pytest.mark.parametrize("upstream", ["stdio", "streamable-http"])
@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_the_upstream_hop_is_timed_and_absent_when_nothing_went_upstream(
    tmp_path: Path, upstream: str, mode: str
) -> None:
    with fixture_http_server() as url:
        server = fixture_stdio_server() if upstream == "stdio" else {"transport": "streamable-http", "url": url}
        deny = {"name": "no-deletes", "everyone": True, "effect": "deny", "servers": {"*": {"tools": ["delete_*"]}}}
        async with serve_portico(tmp_path, {"files": server}, policy={"default": "allow", "rules": [deny]}) as portico:
            observer = RecordingObserver()
            portico.runtime.events.add_mcp(observer)
            async with portico.client("files", mode=mode) as client:
                await client.call_tool("sleep", {"seconds": 0.2, "marker": "m"})
                with pytest.raises(MCPError):
                    await client.call_tool("delete_repo", {"marker": "m"})
    slept, denied = observer.of("tools/call")
    assert slept.upstream_duration is not None and 0.2 <= slept.upstream_duration <= slept.duration
    assert denied.upstream_duration is None  # refused by the policy: never sent upstream


async def test_a_batch_gives_one_record_per_request(tmp_path: Path) -> None:
    async with serve_portico(tmp_path, {"files": fixture_stdio_server()}) as portico:
        observer = RecordingObserver()
        portico.runtime.events.add_mcp(observer)
        async with httpx2.AsyncClient() as http:
            session = await open_raw_session_2025_03(http, portico)
            batch = [
                {
                    "jsonrpc": "2.0",
                    "id": 2,
                    "method": "tools/call",
                    "params": {"name": "echo", "arguments": {"text": "a"}},
                },
                {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "nope", "arguments": {}}},
            ]
            headers = portico.headers("files", **{"mcp-session-id": session, "mcp-protocol-version": "2025-03-26"})
            answer = await http.post(portico.url("files"), headers=headers, content=json.dumps(batch))
            assert answer.status_code == 200
    first, second = observer.of("tools/call")
    assert (first.target, second.target) == ("echo", "nope")
    assert first.request_id == second.request_id
    assert first.mcp_session_id == session


async def test_a_request_refused_before_its_body_is_read_is_recorded_once(tmp_path: Path) -> None:
    async with serve_portico(tmp_path, {"files": fixture_stdio_server()}) as portico:
        observer = RecordingObserver()
        portico.runtime.events.add_mcp(observer)
        async with httpx2.AsyncClient() as http:
            answer = await http.post(portico.url("files"), json=initialize_body())
    assert answer.status_code == 401
    (record,) = observer.records
    assert (record.method, record.outcome, record.http_status, record.subject) == ("", "http_error", 401, None)


async def test_legacy_sse_gives_one_record_per_posted_message_with_its_reply_s_outcome(tmp_path: Path) -> None:
    async with serve_portico(tmp_path, {"files": fixture_stdio_server()}, policy=POLICY) as portico:
        observer = RecordingObserver()
        portico.runtime.events.add_mcp(observer)
        async with connect(portico, "files", "legacy_sse") as client:
            await client.call_tool("echo", {"text": "x"})
            with pytest.raises(MCPError):
                await client.call_tool("delete_repo", {"marker": "m"})
    allowed, denied = observer.of("tools/call")
    assert (allowed.era, allowed.transport, allowed.outcome, allowed.http_status) == (
        "2024-11-05-sse",
        "sse",
        "ok",
        202,
    )
    assert (allowed.subject, allowed.target, allowed.policy) == ("1", "echo", "allowed")
    assert allowed.mcp_session_id and allowed.bytes_out > 0 and allowed.client_address == "127.0.0.1"
    assert (denied.outcome, denied.error_code, denied.policy) == ("error", POLICY_DENIED, "denied")
    assert (allowed.policy_rule, denied.policy_rule) == ("policy.rules[1]", "policy.default")
    assert observer.of("initialize") and observer.of("notifications/initialized")


async def test_legacy_sse_message_posts_refused_before_handover_are_recorded(tmp_path: Path) -> None:
    async with serve_portico(tmp_path, {"files": fixture_stdio_server()}) as portico:
        observer = RecordingObserver()
        portico.runtime.events.add_mcp(observer)
        messages = portico.sse_url("files") + "/messages?session_id=nobody"
        token = portico.token("files", audience=portico.sse_url("files"))
        async with httpx2.AsyncClient() as http:
            unauthenticated = await http.post(messages, json=initialize_body())
            unknown = await http.post(messages, json=initialize_body(), headers={"authorization": f"Bearer {token}"})
    assert (unauthenticated.status_code, unknown.status_code) == (401, 404)
    refused, lost = observer.records
    assert (refused.method, refused.transport, refused.era, refused.http_status) == ("", "sse", "2024-11-05-sse", 401)
    assert refused.subject is None and refused.outcome != "ok"
    assert (lost.method, lost.http_status, lost.subject, lost.outcome) == ("", 404, "1", "error")
    assert lost.error_code is not None and lost.bytes_out == len(unknown.content)
