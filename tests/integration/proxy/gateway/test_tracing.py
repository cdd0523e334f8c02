"""OpenTelemetry traces of proxied MCP calls, exported to a real OTLP/HTTP receiver (issue #18).

Real peers: a real Portico (uvicorn) with the real SDK, ``BatchSpanProcessor`` and
``OTLPSpanExporter``; the OTLP receiver (``tests/support/otlp.py``) decoding the protobuf; the
SDK fixture server upstream (Streamable HTTP in its own process, or stdio); the official MCP SDK
client sending a W3C ``traceparent``. Spans are read after Portico's shutdown, which flushes.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from tests.integration.proxy.gateway.harness import (
    Portico,
    fixture_http_server,
    fixture_stdio_server,
    open_raw_session_2025_03,
    serve_portico,
)
from tests.support.otlp import CLIENT, SERVER, OtlpReceiver, ReceivedSpan, otlp_receiver

pytestmark = pytest.mark.anyio
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN_ID = "00f067aa0ba902b7"
CLIENT_TRACEPARENT = f"00-{TRACE_ID}-{CLIENT_SPAN_ID}-01"
POLICY = {
    "default": "deny",
    "rules": [{"everyone": True, "effect": "allow", "servers": {"*": {"tools": ["echo", "trace_context"]}}}],
}


@pytest.fixture(scope="module")
def upstream_url() -> Iterator[str]:
    with fixture_http_server() as url:
        yield url


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with otlp_receiver() as running:
        yield running


@asynccontextmanager
async def traced_client(portico: Portico, server: str, mode: str, traceparent: str | None) -> AsyncIterator[Client]:
    """The SDK client whose every HTTP request carries ``traceparent`` (as an instrumented client's would)."""
    headers = {"authorization": f"Bearer {portico.token(server)}"}
    if traceparent is not None:
        headers["traceparent"] = traceparent
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(portico.url(server), http_client=http), mode=mode) as client,
    ):
        yield client


def telemetry(receiver: OtlpReceiver, **extra: Any) -> dict[str, Any]:
    return {"endpoint": receiver.endpoint, "service_name": "portico-test", **extra}


def one(spans: list[ReceivedSpan], name: str, kind: int) -> ReceivedSpan:
    matching = [span for span in spans if span.name == name and span.kind == kind]
    assert len(matching) == 1, [(s.name, s.kind) for s in spans]
    return matching[0]


def traceparent_of(span: ReceivedSpan) -> str:
    return f"00-{span.trace_id}-{span.span_id}-01"


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_tool_call_is_one_trace_from_the_client_through_portico_to_the_http_upstream(
    tmp_path: Path, upstream_url: str, receiver: OtlpReceiver, mode: str
) -> None:
    servers = {"up": {"transport": "streamable-http", "url": upstream_url}}
    async with serve_portico(tmp_path, servers, policy=POLICY, telemetry=telemetry(receiver)) as portico:
        async with traced_client(portico, "up", mode, CLIENT_TRACEPARENT) as client:
            seen = await client.call_tool("trace_context", {})
    spans = receiver.spans()
    inbound = one(spans, "tools/call trace_context", SERVER)
    upstream = one(spans, "tools/call trace_context", CLIENT)
    assert (inbound.trace_id, inbound.parent_span_id) == (TRACE_ID, CLIENT_SPAN_ID)  # the client's trace continues
    assert inbound.service_name == "portico-test"
    assert inbound.attributes["mcp.method.name"] == "tools/call"
    assert inbound.attributes["gen_ai.tool.name"] == "trace_context"
    assert inbound.attributes["gen_ai.operation.name"] == "execute_tool"
    assert inbound.attributes["mcp.protocol.version"] == ("2025-11-25" if mode == "legacy" else "2026-07-28")
    assert inbound.attributes["network.transport"] == "tcp"
    assert "jsonrpc.request.id" in inbound.attributes
    assert ("mcp.session.id" in inbound.attributes) == (mode == "legacy")
    assert not inbound.failed
    assert len(str(inbound.attributes["portico.request_id"])) == 24  # the X-Request-Id of the request (generated)
    assert upstream.attributes["portico.request_id"] == inbound.attributes["portico.request_id"]
    assert (upstream.trace_id, upstream.parent_span_id) == (TRACE_ID, inbound.span_id)
    assert upstream.attributes["server.address"] == "127.0.0.1"
    assert upstream.attributes["http.response.status_code"] == 200
    # the upstream's parent is Portico's CLIENT span, not the client's span
    assert seen.structured_content == {"header": traceparent_of(upstream), "meta": ""}
    server_span_ids = {span.span_id for span in spans if span.kind == SERVER}
    token_checks = [span for span in spans if span.name == "portico.token.verify"]
    assert token_checks and all(span.parent_span_id in server_span_ids for span in token_checks)
    assert any(s.span_id == t.parent_span_id for t in token_checks for s in [inbound])
    decision = one(spans, "portico.policy.decide", 1)  # INTERNAL: the cold decision, once per token and server
    assert decision.parent_span_id in server_span_ids and decision.attributes["portico.policy.usable"] is True
    for span in spans:  # never the token, arguments or results
        assert portico.token("up") not in repr(span.attributes)


async def test_a_call_refused_by_the_policy_is_an_error_span_with_its_json_rpc_code(
    tmp_path: Path, upstream_url: str, receiver: OtlpReceiver
) -> None:
    servers = {"up": {"transport": "streamable-http", "url": upstream_url}}
    async with serve_portico(tmp_path, servers, policy=POLICY, telemetry=telemetry(receiver)) as portico:
        async with traced_client(portico, "up", "legacy", CLIENT_TRACEPARENT) as client:
            with pytest.raises(MCPError):
                await client.call_tool("delete_repo", {"marker": str(tmp_path / "never")})
    spans = receiver.spans()
    refused = one(spans, "tools/call delete_repo", SERVER)
    assert refused.failed
    assert refused.attributes["error.type"] == "-32012"
    assert refused.attributes["rpc.response.status_code"] == "-32012"
    assert not [span for span in spans if span.name == "tools/call delete_repo" and span.kind == CLIENT]


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_stdio_upstream_gets_portico_s_span_in_params_meta(
    tmp_path: Path, receiver: OtlpReceiver, mode: str
) -> None:
    servers = {"fixture": fixture_stdio_server()}
    async with serve_portico(tmp_path, servers, telemetry=telemetry(receiver)) as portico:
        async with traced_client(portico, "fixture", mode, CLIENT_TRACEPARENT) as client:
            seen = await client.call_tool("trace_context", {})
    spans = receiver.spans()
    inbound = one(spans, "tools/call trace_context", SERVER)
    upstream = one(spans, "tools/call trace_context", CLIENT)
    assert (upstream.parent_span_id, upstream.attributes["network.transport"]) == (inbound.span_id, "pipe")
    assert seen.structured_content == {"header": "", "meta": traceparent_of(upstream)}


async def test_a_sampling_ratio_of_zero_exports_nothing(
    tmp_path: Path, upstream_url: str, receiver: OtlpReceiver
) -> None:
    servers = {"up": {"transport": "streamable-http", "url": upstream_url}}
    async with serve_portico(tmp_path, servers, telemetry=telemetry(receiver, sampling_ratio=0)) as portico:
        async with traced_client(portico, "up", "legacy", None) as client:
            seen = await client.call_tool("trace_context", {})
    assert receiver.requests == []
    assert seen.structured_content is not None
    assert int(seen.structured_content["header"].rsplit("-", 1)[1], 16) & 1 == 0  # propagated, flagged not sampled


async def test_tracing_off_sends_nothing_and_relays_the_client_s_traceparent_unchanged(
    tmp_path: Path, upstream_url: str, receiver: OtlpReceiver
) -> None:
    servers = {"up": {"transport": "streamable-http", "url": upstream_url}}
    off = {"endpoint": receiver.endpoint, "enabled": False}
    async with serve_portico(tmp_path, servers, telemetry=off) as portico:
        async with traced_client(portico, "up", "legacy", CLIENT_TRACEPARENT) as client:
            seen = await client.call_tool("trace_context", {})
    assert receiver.requests == []
    assert seen.structured_content == {"header": CLIENT_TRACEPARENT, "meta": ""}


async def test_a_sampled_client_trace_is_kept_even_at_ratio_zero(
    tmp_path: Path, upstream_url: str, receiver: OtlpReceiver
) -> None:
    """Parent-based sampling: the client's sampled flag wins over the ratio for traces it started."""
    servers = {"up": {"transport": "streamable-http", "url": upstream_url}}
    async with serve_portico(tmp_path, servers, telemetry=telemetry(receiver, sampling_ratio=0)) as portico:
        async with traced_client(portico, "up", "legacy", CLIENT_TRACEPARENT) as client:
            await client.call_tool("echo", {"text": "hi"})
    assert one(receiver.spans(), "tools/call echo", SERVER).trace_id == TRACE_ID


async def test_a_legacy_sse_client_s_message_is_a_server_span_parented_on_its_post(
    tmp_path: Path, receiver: OtlpReceiver
) -> None:
    servers = {"fixture": fixture_stdio_server()}
    async with serve_portico(tmp_path, servers, telemetry=telemetry(receiver)) as portico:
        token = portico.token("fixture", audience=portico.sse_url("fixture"))
        headers = {"authorization": f"Bearer {token}", "traceparent": CLIENT_TRACEPARENT}
        async with Client(sse_client(portico.sse_url("fixture"), headers=headers), mode="legacy") as client:
            seen = await client.call_tool("trace_context", {})
    spans = receiver.spans()
    inbound = one(spans, "tools/call trace_context", SERVER)
    upstream = one(spans, "tools/call trace_context", CLIENT)
    assert (inbound.trace_id, inbound.parent_span_id) == (TRACE_ID, CLIENT_SPAN_ID)
    assert upstream.parent_span_id == inbound.span_id
    assert seen.structured_content == {"header": "", "meta": traceparent_of(upstream)}


async def test_a_missing_user_credential_is_resolved_in_a_span_and_refused_with_its_code(
    tmp_path: Path, upstream_url: str, receiver: OtlpReceiver
) -> None:
    credentials = {"type": "user_token", "format": "Bearer {token}"}
    servers = {"notes": {"transport": "streamable-http", "url": upstream_url, "credentials": credentials}}
    async with serve_portico(tmp_path, servers, telemetry=telemetry(receiver)) as portico:
        async with traced_client(portico, "notes", "legacy", CLIENT_TRACEPARENT) as client:
            with pytest.raises(MCPError) as refused:
                await client.call_tool("echo", {"text": "hi"})
    assert refused.value.error.code == -32011
    spans = receiver.spans()
    call = one(spans, "tools/call echo", SERVER)
    assert call.failed and call.attributes["error.type"] == "-32011"
    resolved = [span for span in spans if span.name == "portico.credentials.resolve"]
    assert call.span_id in {span.parent_span_id for span in resolved}  # the guard's cold read, inside the call
    assert all(span.attributes["portico.server"] == "notes" for span in resolved)


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_an_upstream_json_rpc_error_makes_the_inbound_span_an_error(
    tmp_path: Path, upstream_url: str, receiver: OtlpReceiver, mode: str
) -> None:
    servers = {"up": {"transport": "streamable-http", "url": upstream_url}}
    async with serve_portico(tmp_path, servers, telemetry=telemetry(receiver)) as portico:
        async with traced_client(portico, "up", mode, CLIENT_TRACEPARENT) as client:
            with pytest.raises(MCPError) as failed:
                await client.read_resource("fixture://does-not-exist")
    inbound = one(receiver.spans(), "resources/read", SERVER)
    assert inbound.failed
    assert inbound.attributes["rpc.response.status_code"] == str(failed.value.error.code)
    assert inbound.attributes["error.type"] == str(failed.value.error.code)


async def test_a_batch_is_one_server_span_with_an_event_per_member(tmp_path: Path, receiver: OtlpReceiver) -> None:
    async with serve_portico(
        tmp_path, {"files": fixture_stdio_server()}, policy=POLICY, telemetry=telemetry(receiver)
    ) as portico:
        async with httpx2.AsyncClient() as http:
            session = await open_raw_session_2025_03(http, portico)
            batch = [
                {
                    "jsonrpc": "2.0",
                    "id": 2,
                    "method": "tools/call",
                    "params": {"name": "echo", "arguments": {"text": "a"}},
                },
                {"jsonrpc": "2.0", "id": "three", "method": "prompts/get", "params": {"name": "greet"}},
                {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": 1, "progress": 1}},
            ]
            headers = portico.headers("files", **{"mcp-session-id": session, "mcp-protocol-version": "2025-03-26"})
            answer = await http.post(portico.url("files"), headers=headers, content=json.dumps(batch))
            assert answer.status_code == 200
    span = one(receiver.spans(), "tools/call echo", SERVER)
    assert span.attributes["portico.batch_size"] == 3
    assert span.events == [
        ("mcp.batch.member", {"mcp.method.name": "tools/call", "jsonrpc.request.id": "2", "gen_ai.tool.name": "echo"}),
        (
            "mcp.batch.member",
            {"mcp.method.name": "prompts/get", "jsonrpc.request.id": "three", "gen_ai.prompt.name": "greet"},
        ),
        ("mcp.batch.member", {"mcp.method.name": "notifications/progress"}),
    ]
