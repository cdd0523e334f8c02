"""A Streamable HTTP upstream restarted under live client sessions (issue #14 finding 4).

Real components only: Portico (uvicorn), the official MCP SDK client, and the SDK server of
tests/fixtures/restart_fixture_server.py killed (SIGKILL) and started again on the same port —
the new process knows none of the old sessions and answers them 404, as every SDK server does.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError

from proxy.backends.http_recovery import MAX_RECOVERIES, RETRY_PAUSE
from tests.integration.proxy.gateway.harness import Portico, open_raw_session, serve_portico, sse_messages
from tests.integration.proxy.upstream_process import RESTART_SERVER, RestartableUpstream, restartable_upstream

pytestmark = pytest.mark.anyio


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[RestartableUpstream]:
    with restartable_upstream(tmp_path) as started:
        yield started


def servers(upstream: RestartableUpstream) -> dict[str, Any]:
    return {"up": {"transport": "streamable-http", "url": upstream.url, "connect_timeout": 2}}


def call_body(name: str, arguments: dict[str, Any] | None = None, request_id: int = 7) -> dict[str, Any]:
    params = {"name": name, "arguments": arguments or {}}
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


async def raw_call(http: httpx2.AsyncClient, portico: Portico, mcp_session_id: str, name: str) -> httpx2.Response:
    headers = portico.headers("up", **{"mcp-session-id": mcp_session_id})
    return await http.post(portico.url("up"), json=call_body(name), headers=headers)


def answer_of(response: httpx2.Response) -> dict[str, Any]:
    """The one JSON-RPC message of a JSON or SSE answer."""
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        return sse_messages(response.text)[-1]
    message: dict[str, Any] = response.json()
    return message


async def test_a_client_session_and_an_idle_one_survive_an_upstream_restart(
    tmp_path: Path, upstream: RestartableUpstream
) -> None:
    """Our choice (Portico owns the upstream session): after a restart the same client sessions go on working."""
    async with serve_portico(tmp_path, servers(upstream)) as portico:
        async with (
            portico.client("up", mode="legacy") as busy,
            portico.client("up", subject="2", mode="legacy") as idle,
        ):
            before = await busy.call_tool("pid", {})
            upstream.restart()
            with anyio.fail_after(30):
                after = await busy.call_tool("pid", {})
                echoed = await busy.call_tool("echo", {"text": "still here"})
                idle_after = await idle.call_tool("echo", {"text": "idle user"})
    assert not after.is_error and not echoed.is_error and not idle_after.is_error
    assert after.structured_content != before.structured_content  # another process answered
    assert echoed.content[0].text == "still here"  # type: ignore[union-attr]
    assert idle_after.content[0].text == "idle user"  # type: ignore[union-attr]


async def test_resource_subscriptions_are_re_established_after_an_upstream_restart(
    tmp_path: Path, upstream: RestartableUpstream
) -> None:
    """Our choice: the new upstream session is subscribed to what the client had subscribed to."""
    async with serve_portico(tmp_path, servers(upstream)) as portico:
        async with portico.client("up", mode="legacy") as client:
            with pytest.warns(MCPDeprecationWarning):  # removed in 2026-07-28; this is a 2025-11-25 session
                await client.subscribe_resource("restart://status")
            await upstream.wait_for_line("subscribe restart://status")
            upstream.restart()
            with anyio.fail_after(30):
                result = await client.call_tool("echo", {"text": "after"})
            await upstream.wait_for_line("subscribe restart://status", count=2)
    assert not result.is_error
    starts = [i for i, line in enumerate(upstream.lines()) if line.startswith("start ")]
    resubscribed = [i for i, line in enumerate(upstream.lines()) if line == "subscribe restart://status"]
    assert resubscribed[1] > starts[1]  # the new process got the subscription


async def test_a_restarted_stdio_upstream_is_subscribed_again(tmp_path: Path) -> None:
    """Our choice: a stdio process that died is restarted with the session's initialize and its subscriptions."""
    events = tmp_path / "stdio-events.log"
    stdio = {"transport": "stdio", "command": sys.executable, "args": [str(RESTART_SERVER), "stdio", str(events)]}
    async with serve_portico(tmp_path, {"up": stdio}) as portico, portico.client("up", mode="legacy") as client:
        with pytest.warns(MCPDeprecationWarning):  # removed in 2026-07-28; this is a 2025-11-25 session
            await client.subscribe_resource("restart://status")
        with anyio.fail_after(30):
            with pytest.raises(MCPError) as crashed:
                await client.call_tool("exit", {})
            result = await client.call_tool("echo", {"text": "after"})
    assert crashed.value.code == -32004
    assert not result.is_error
    lines = events.read_text().splitlines()
    assert [line.split()[0] for line in lines] == ["start", "subscribe", "start", "subscribe"]


async def test_a_permanently_down_upstream_answers_minus_32003_in_bounded_time(
    tmp_path: Path, upstream: RestartableUpstream
) -> None:
    """Our choice: one retry after RETRY_PAUSE (the connection was refused: nothing ran), then -32003."""
    async with serve_portico(tmp_path, servers(upstream)) as portico, httpx2.AsyncClient(timeout=30) as http:
        mcp_session_id = await open_raw_session(http, portico, "up")
        upstream.stop()
        with anyio.fail_after(3 * (RETRY_PAUSE + 2 * 2)):  # 3 × (pause + two connect timeouts)
            response = await raw_call(http, portico, mcp_session_id, "echo")
            upstream.start()
            recovered = await raw_call(http, portico, mcp_session_id, "echo")
    assert (response.status_code, answer_of(response)["error"]["code"]) == (502, -32003)
    assert "result" in answer_of(recovered)  # the client's session was kept


async def test_a_flapping_upstream_gets_minus_32004_not_a_loop(tmp_path: Path, upstream: RestartableUpstream) -> None:
    """Our choice: at most MAX_RECOVERIES re-initializations per session in a window, then -32004."""
    async with serve_portico(tmp_path, servers(upstream)) as portico, httpx2.AsyncClient(timeout=30) as http:
        mcp_session_id = await open_raw_session(http, portico, "up")
        answers = []
        for _ in range(MAX_RECOVERIES + 1):
            upstream.restart()
            with anyio.fail_after(20):
                answers.append(answer_of(await raw_call(http, portico, mcp_session_id, "echo")))
    assert all("result" in answer for answer in answers[:MAX_RECOVERIES])
    error = answers[-1]["error"]
    assert error["code"] == -32004
    assert "lost its session" in error["message"]
    assert sum(line.startswith("start ") for line in upstream.lines()) == MAX_RECOVERIES + 2
