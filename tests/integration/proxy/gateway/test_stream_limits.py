"""What a client and an operator see at the data plane's limits (issue #14, finding 9).

Real peers: a real Portico in front of the SDK fixture server over stdio and over Streamable HTTP,
driven by the MCP SDK client and by raw HTTP.

- A tool result over ``gateway.max_message_bytes`` fails with an error that names the key and the
  limit (before: ``SseEventTooLargeError`` / "exited with code …", neither).
- A slow reader loses progress notifications (allowed: they are not acknowledged; the final result
  is kept); each drop is counted per server in ``DROPPED_NOTIFICATIONS`` and the stream logs one
  line with the total when it ends (before: one log line and no counter).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp.shared.exceptions import MCPError

from proxy.wire.outbox import DROPPED_NOTIFICATIONS
from tests.integration.proxy.gateway.harness import (
    fixture_http_server,
    fixture_stdio_server,
    open_raw_session,
    serve_portico,
    sse_messages,
)
from tests.integration.proxy.gateway.test_sse_upstream import sse_server

pytestmark = pytest.mark.anyio
LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def fixture_http() -> Iterator[str]:
    with fixture_http_server() as url:
        yield url


@pytest.fixture(scope="module")
def fixture_sse() -> Iterator[str]:
    """The SDK fixture server over legacy HTTP+SSE (2024-11-05)."""
    with sse_server("path") as (url, _process):
        yield url


def server_config(transport: str, request: pytest.FixtureRequest) -> dict[str, Any]:
    if transport == "stdio":
        return fixture_stdio_server()
    if transport == "sse":
        return {"transport": "sse", "url": request.getfixturevalue("fixture_sse")}
    return {"transport": "streamable-http", "url": request.getfixturevalue("fixture_http")}


@pytest.mark.parametrize("transport", ["stdio", "streamable-http", "sse"])
async def test_a_tool_result_over_the_limit_fails_with_an_error_naming_the_key_and_the_limit(
    tmp_path: Path, transport: str, request: pytest.FixtureRequest
) -> None:
    """Finding 9: the client's error says which key to raise and what it is set to."""
    async with serve_portico(tmp_path, {"big": server_config(transport, request)}, max_message_bytes=LIMIT) as portico:
        async with portico.client("big", mode="legacy") as client:
            assert (await client.call_tool("echo", {"text": "small"})).content
            with anyio.fail_after(60), pytest.raises(MCPError) as raised:
                await client.call_tool("echo", {"text": "x" * (2 * LIMIT)})
    message = str(raised.value)
    assert "gateway.max_message_bytes" in message
    assert f"{LIMIT} bytes" in message and "MiB" in message


async def test_a_slow_reader_on_stdio_is_counted_per_server_and_logged_once_per_stream(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Finding 9: the counter grows by exactly what the client lost; one log line for the stream."""
    caplog.set_level(logging.WARNING, logger="portico.proxy")
    count = 1000
    server = "slowreader"
    before, others_before = DROPPED_NOTIFICATIONS.total(server), DROPPED_NOTIFICATIONS.total()
    async with (
        serve_portico(tmp_path, {server: fixture_stdio_server()}, stream_buffer_messages=8) as portico,
        httpx2.AsyncClient(timeout=60) as http,
    ):
        mcp_session_id = await open_raw_session(http, portico, server)
        call = {
            "jsonrpc": "2.0",
            "id": 7,
            "method": "tools/call",
            "params": {"name": "flood", "arguments": {"count": count, "size": 20000}, "_meta": {"progressToken": "t"}},
        }
        headers = portico.headers(server, **{"mcp-session-id": mcp_session_id, "mcp-protocol-version": "2025-11-25"})
        async with http.stream("POST", portico.url(server), json=call, headers=headers) as response:
            await anyio.sleep(1.5)  # read nothing while the upstream floods
            text = (await response.aread()).decode()
        messages = sse_messages(text)
        progress = [m for m in messages if m.get("method") == "notifications/progress"]
        assert messages[-1]["id"] == 7 and messages[-1]["result"]["content"][0]["text"] == f"flooded {count}"
        lost = count - len(progress)
        assert lost > 0
        assert DROPPED_NOTIFICATIONS.total(server) - before == lost
        assert DROPPED_NOTIFICATIONS.total() - others_before >= lost
        assert DROPPED_NOTIFICATIONS.by_server()[server] == DROPPED_NOTIFICATIONS.total(server)
    lines = [r.getMessage() for r in caplog.records if "notifications dropped" in r.getMessage()]
    assert len(lines) == 1, lines
    assert f"{lost} notifications dropped" in lines[0] and server in lines[0]
