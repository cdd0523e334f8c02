"""Requests an upstream never answers end at their deadline (issue #14 finding 5).

Real components: Portico (uvicorn), the SDK fixture servers (Streamable HTTP and stdio), the
official SDK client, and ``mcp-server-time`` — which silently drops a request whose ``params``
is an array. MCP lifecycle §Timeouts: a sender SHOULD time out requests and send
``notifications/cancelled``; it MAY reset the clock on progress but SHOULD keep a maximum.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp.shared.exceptions import MCPError

from tests.integration.proxy.gateway.harness import (
    fixture_stdio_server,
    modern_body,
    modern_headers,
    open_raw_session,
    serve_portico,
)
from tests.integration.proxy.test_upstream_restart import answer_of, call_body
from tests.integration.proxy.upstream_process import RestartableUpstream, restartable_upstream

pytestmark = pytest.mark.anyio
TIMEOUT = 1.0
MCP_SERVER_TIME = Path(sys.executable).parent / "mcp-server-time"


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[RestartableUpstream]:
    with restartable_upstream(tmp_path) as started:
        yield started


def http_server(upstream: RestartableUpstream, **limits: float) -> dict[str, Any]:
    return {"up": {"transport": "streamable-http", "url": upstream.url, **limits}}


async def test_a_hung_http_request_gets_minus_32001_naming_the_key_and_is_cancelled_upstream(
    tmp_path: Path, upstream: RestartableUpstream
) -> None:
    """Spec (lifecycle §Timeouts, SHOULD): the error names the limit; the upstream gets notifications/cancelled."""
    async with serve_portico(tmp_path, http_server(upstream, request_timeout=TIMEOUT)) as portico:
        async with httpx2.AsyncClient(timeout=30) as http:
            mcp_session_id = await open_raw_session(http, portico, "up")
            headers = portico.headers("up", **{"mcp-session-id": mcp_session_id})
            with anyio.fail_after(3 * TIMEOUT + 5):
                response = await http.post(portico.url("up"), json=call_body("hang"), headers=headers)
            await upstream.wait_for_line("cancelled hang")
    answer = answer_of(response)
    assert answer["id"] == 7
    assert answer["error"]["code"] == -32001
    expected = {
        "limit": "servers.up.request_timeout",
        "seconds": TIMEOUT,
        "request_id": response.headers["x-request-id"],
    }
    assert answer["error"]["data"] == expected
    assert "servers.up.request_timeout" in answer["error"]["message"]


async def test_a_hung_stdio_request_is_a_504_with_minus_32001_and_cancelled_upstream(tmp_path: Path) -> None:
    """Our choice: nothing sent yet, so a plain JSON 504; the stdio upstream gets notifications/cancelled."""
    marker = tmp_path / "marker"
    servers = {"fixture": fixture_stdio_server(request_timeout=TIMEOUT)}
    async with serve_portico(tmp_path, servers) as portico, httpx2.AsyncClient(timeout=30) as http:
        mcp_session_id = await open_raw_session(http, portico, "fixture")
        headers = portico.headers("fixture", **{"mcp-session-id": mcp_session_id})
        body = call_body("sleep", {"seconds": 60, "marker": str(marker)})
        with anyio.fail_after(3 * TIMEOUT + 5):
            response = await http.post(portico.url("fixture"), json=body, headers=headers)
            while not marker.exists():  # noqa: ASYNC110 - the upstream process writes it
                await anyio.sleep(0.05)
    assert response.status_code == 504
    assert response.json()["error"]["code"] == -32001
    assert response.json()["error"]["data"]["limit"] == "servers.fixture.request_timeout"
    assert marker.read_text() == "cancelled"


async def test_a_hung_2026_07_28_request_on_stdio_is_a_504_with_minus_32001(tmp_path: Path) -> None:
    """Our choice: the same deadline for the 2026-07-28 era (one request per POST, no session)."""
    marker = tmp_path / "marker"
    servers = {"fixture": fixture_stdio_server(request_timeout=TIMEOUT)}
    async with serve_portico(tmp_path, servers) as portico, httpx2.AsyncClient(timeout=30) as http:
        body = modern_body("tools/call", {"name": "sleep", "arguments": {"seconds": 60, "marker": str(marker)}})
        headers = {**modern_headers("tools/call", "sleep"), "authorization": f"Bearer {portico.token('fixture')}"}
        with anyio.fail_after(3 * TIMEOUT + 10):
            response = await http.post(portico.url("fixture"), json=body, headers=headers)
            while not marker.exists():  # noqa: ASYNC110 - the upstream process writes it
                await anyio.sleep(0.05)
    assert (response.status_code, response.json()["error"]["code"]) == (504, -32001)
    assert marker.read_text() == "cancelled"


async def test_progress_notifications_keep_a_slow_call_alive_past_request_timeout(
    tmp_path: Path, upstream: RestartableUpstream
) -> None:
    """Spec (lifecycle §Timeouts, MAY): progress for the request resets the silence clock."""
    async with serve_portico(tmp_path, http_server(upstream, request_timeout=TIMEOUT)) as portico:
        async with portico.client("up", mode="legacy") as client:
            seen: list[float] = []

            async def on_progress(progress: float, total: float | None, message: str | None) -> None:
                seen.append(progress)

            with anyio.fail_after(30):
                result = await client.call_tool(
                    "slow", {"seconds": 4 * TIMEOUT, "interval": TIMEOUT / 4}, progress_callback=on_progress
                )
    assert not result.is_error
    assert len(seen) == 16


async def test_max_request_duration_caps_a_call_that_keeps_reporting_progress(
    tmp_path: Path, upstream: RestartableUpstream
) -> None:
    """Spec (lifecycle §Timeouts, SHOULD keep a maximum): progress does not extend past max_request_duration."""
    limits = {"request_timeout": 30.0, "max_request_duration": 2 * TIMEOUT}
    async with serve_portico(tmp_path, http_server(upstream, **limits)) as portico:
        async with portico.client("up", mode="legacy") as client:
            with anyio.fail_after(3 * 2 * TIMEOUT + 5), pytest.raises(MCPError) as failure:
                await client.call_tool("slow", {"seconds": 60, "interval": TIMEOUT / 4})
    assert failure.value.code == -32001
    data = dict(failure.value.error.data)
    assert data.pop("request_id")  # the HTTP request's (docs/observability.md §Request IDs)
    assert data == {"limit": "servers.up.max_request_duration", "seconds": 2 * TIMEOUT}


async def test_mcp_server_time_ignoring_array_params_gets_an_answer_from_the_gateway_default(tmp_path: Path) -> None:
    """Our choice: gateway.request_timeout applies to every server without its own (here it is set low)."""
    servers = {"time": {"transport": "stdio", "command": str(MCP_SERVER_TIME)}}
    async with serve_portico(tmp_path, servers, request_timeout=TIMEOUT) as portico:
        async with httpx2.AsyncClient(timeout=30) as http:
            mcp_session_id = await open_raw_session(http, portico, "time")
            headers = portico.headers("time", **{"mcp-session-id": mcp_session_id})
            body = {"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": ["get_current_time", {}]}
            with anyio.fail_after(3 * TIMEOUT + 5):
                response = await http.post(portico.url("time"), json=body, headers=headers)
    assert response.status_code == 504
    assert response.json()["id"] == 9
    assert response.json()["error"]["code"] == -32001
    assert response.json()["error"]["data"]["limit"] == "gateway.request_timeout"
