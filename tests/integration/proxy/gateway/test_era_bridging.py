"""2026-07-28 clients in front of handshake-only upstreams, bridged by Portico (docs/protocol-bridging.md).

Real peers: the MCP SDK ``Client`` pinned to 2026-07-28 (and ``auto``), the SDK fixture server pinned
to the handshake era over Streamable HTTP (``tests/fixtures/handshake_http_server.py``),
``@modelcontextprotocol/server-everything`` over stdio and legacy SSE, and ``mcp-server-time``; and the
reverse: the SDK ``Client`` in ``legacy`` mode in front of the fixture served as a 2026-07-28-only
stateless server (``tests/fixtures/modern_http_server.py``).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import mcp_types as types
import pytest
from mcp import Client
from mcp.client.context import ClientRequestContext
from mcp.client.sse import sse_client

from tests.integration.proxy.gateway.harness import (
    FIXTURES,
    Portico,
    modern_body,
    modern_headers,
    open_raw_session,
    python_http_server,
    serve_portico,
    sse_messages,
)
from tests.support.everything import everything_stdio_config as stdio_config
from tests.support.everything import run_everything

pytestmark = pytest.mark.anyio
HANDSHAKE_HTTP_SERVER = FIXTURES / "handshake_http_server.py"
ASK = {"name": "ask", "arguments": {"question": "Your name?"}}
ELICITING_CAPABILITIES: dict[str, Any] = {"elicitation": {}}


@pytest.fixture(scope="module")
def handshake_http() -> Iterator[str]:
    """The SDK fixture server over Streamable HTTP, refusing 2026-07-28 like a pre-2026 server."""
    with python_http_server(HANDSHAKE_HTTP_SERVER) as url:
        yield url


@pytest.fixture
async def portico(tmp_path: Path, handshake_http: str) -> AsyncIterator[Portico]:
    servers = {"old": {"transport": "streamable-http", "url": handshake_http}}
    async with serve_portico(tmp_path, servers, keepalive_interval=0.2) as running:
        yield running


async def answer_name(context: ClientRequestContext, params: types.ElicitRequestParams) -> types.ElicitResult:
    return types.ElicitResult(action="accept", content={"answer": "Ada"})


async def answer_sample(
    context: ClientRequestContext, params: types.CreateMessageRequestParams
) -> types.CreateMessageResult:
    return types.CreateMessageResult(
        role="assistant", content=types.TextContent(type="text", text="sampled!"), model="test-model"
    )


def text_of(result: types.CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, types.TextContent)
    return block.text


# --- the SDK client against a handshake-only Streamable HTTP upstream ----------------------------------


@pytest.mark.parametrize("mode", ["2026-07-28", "auto"])
async def test_a_modern_client_lists_calls_and_streams_progress_through_the_bridge(portico: Portico, mode: str) -> None:
    received: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        received.append(progress)

    async with portico.client("old", mode=mode) as client:
        assert client.protocol_version == "2026-07-28"
        tools = {tool.name for tool in (await client.list_tools()).tools}
        echoed = text_of(await client.call_tool("echo", {"text": "hi"}))
        stepped = await client.call_tool("progress", {"steps": 3, "delay": 0.01}, progress_callback=on_progress)
    assert {"echo", "ask", "progress"} <= tools
    assert echoed == "hi"
    assert text_of(stepped) == "done after 3 steps"
    assert received == [1, 2, 3]


async def test_an_upstream_elicitation_reaches_the_modern_clients_callback(portico: Portico) -> None:
    async with portico.client("old", mode="2026-07-28", elicitation_callback=answer_name) as client:
        result = await client.call_tool("ask", {"question": "Your name?"})
    assert text_of(result) == "accept:Ada"


async def test_discover_is_synthesized_from_the_upstreams_initialize_result(
    portico: Portico, http: httpx2.AsyncClient
) -> None:
    response = await post(http, portico, "server/discover", {})
    result = response.json()["result"]
    assert result["supportedVersions"] == ["2026-07-28"]
    assert result["instructions"] == "A fixture for Portico's gateway tests."
    assert result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "portico-fixture"
    assert "subscribe" not in result["capabilities"].get("resources", {})  # resource subscriptions: not bridged


# --- requestState: the raw wire -------------------------------------------------------------------------


@pytest.fixture
async def http() -> AsyncIterator[httpx2.AsyncClient]:
    async with httpx2.AsyncClient(timeout=30.0) as client:
        yield client


async def post(
    http: httpx2.AsyncClient,
    portico: Portico,
    method: str,
    params: dict[str, Any],
    *,
    subject: str = "1",
    request_id: int = 1,
    capabilities: dict[str, Any] | None = None,
) -> httpx2.Response:
    body = modern_body(method, params, request_id)
    body["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"] = capabilities or {}
    name = params.get("name")
    headers = {**modern_headers(method, name), "authorization": f"Bearer {portico.token('old', subject)}"}
    return await http.post(portico.url("old"), json=body, headers=headers)


def final_message(response: httpx2.Response) -> dict[str, Any]:
    if response.headers["content-type"].startswith("application/json"):
        message: dict[str, Any] = response.json()
        return message
    return sse_messages(response.text)[-1]


async def input_required(http: httpx2.AsyncClient, portico: Portico) -> dict[str, Any]:
    response = await post(http, portico, "tools/call", ASK, capabilities=ELICITING_CAPABILITIES)
    assert response.status_code == 200
    result: dict[str, Any] = final_message(response)["result"]
    assert result["resultType"] == "input_required"
    return result


async def retry(
    http: httpx2.AsyncClient, portico: Portico, state: str, *, subject: str = "1", answer: str = "Ada"
) -> httpx2.Response:
    responses = {"elicitation": {"action": "accept", "content": {"answer": answer}}}
    params = {**ASK, "inputResponses": responses, "requestState": state}
    return await post(http, portico, "tools/call", params, subject=subject, request_id=2)


async def test_input_required_carries_the_upstreams_elicitation(portico: Portico, http: httpx2.AsyncClient) -> None:
    result = await input_required(http, portico)
    request = result["inputRequests"]["elicitation"]
    assert request["method"] == "elicitation/create"
    assert request["params"]["message"] == "Your name?"
    answered = await retry(http, portico, result["requestState"])
    final = final_message(answered)
    assert final["id"] == 2
    assert final["result"]["content"][0]["text"] == "accept:Ada"
    assert final["result"]["resultType"] == "complete"


def refusal(response: httpx2.Response) -> tuple[int, int, str]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["message"]


async def test_a_tampered_request_state_is_refused_and_not_logged(
    portico: Portico, http: httpx2.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    state = (await input_required(http, portico))["requestState"]
    payload, mac = state.split(".")
    forged = f"{payload}.{'A' if mac[0] != 'A' else 'B'}{mac[1:]}"
    status, code, message = refusal(await retry(http, portico, forged))
    assert (status, code) == (400, -32602)
    assert "not issued for this user" in message
    assert forged not in caplog.text and state not in caplog.text
    # the genuine state still resumes the parked call afterwards
    assert final_message(await retry(http, portico, state))["result"]["content"][0]["text"] == "accept:Ada"


async def test_another_users_request_state_is_refused(portico: Portico, http: httpx2.AsyncClient) -> None:
    state = (await input_required(http, portico))["requestState"]
    assert refusal(await retry(http, portico, state, subject="2"))[:2] == (400, -32602)
    assert final_message(await retry(http, portico, state))["result"]["content"][0]["text"] == "accept:Ada"


async def test_an_expired_request_state_is_refused(portico: Portico, http: httpx2.AsyncClient) -> None:
    state = (await input_required(http, portico))["requestState"]
    codec = portico.gateway.parked_requests.codec
    codec.clock = lambda: time.time() + codec.lifetime + 1
    status, code, message = refusal(await retry(http, portico, state))
    assert (status, code) == (400, -32602)
    assert "expired" in message


async def test_a_request_state_resumes_only_once(portico: Portico, http: httpx2.AsyncClient) -> None:
    state = (await input_required(http, portico))["requestState"]
    assert final_message(await retry(http, portico, state))["result"]["content"][0]["text"] == "accept:Ada"
    assert refusal(await retry(http, portico, state))[:2] == (400, -32602)


async def test_a_client_without_the_elicitation_capability_is_not_asked(
    portico: Portico, http: httpx2.AsyncClient
) -> None:
    """The upstream's elicitation is refused (-32021); the call fails upstream, no input_required."""
    response = await post(http, portico, "tools/call", ASK)
    final = final_message(response)
    assert "input_required" not in response.text
    assert "error" in final or final["result"]["isError"] is True


# --- subscriptions/listen -------------------------------------------------------------------------------


async def test_an_upstream_list_changed_reaches_a_listen_stream(portico: Portico, http: httpx2.AsyncClient) -> None:
    body = modern_body(
        "subscriptions/listen", {"notifications": {"toolsListChanged": True, "promptsListChanged": True}}
    )
    body["id"] = "listen-1"
    headers = {**modern_headers("subscriptions/listen"), "authorization": f"Bearer {portico.token('old')}"}
    frames: list[dict[str, Any]] = []
    with anyio.fail_after(20):
        async with http.stream("POST", portico.url("old"), json=body, headers=headers) as stream:
            lines = stream.aiter_lines()
            async for line in lines:
                if line.startswith("data:"):
                    frames.append(json.loads(line[5:]))
                    break
            later = await post(http, portico, "tools/call", {"name": "announce_later", "arguments": {"delay": 0.1}})
            assert final_message(later)["result"]["content"][0]["text"] == "scheduled"
            async for line in lines:
                if line.startswith("data:"):
                    frames.append(json.loads(line[5:]))
                    break
    acknowledged, changed = frames
    assert acknowledged["method"] == "notifications/subscriptions/acknowledged"
    assert acknowledged["params"]["notifications"]["toolsListChanged"] is True
    assert changed["method"] == "notifications/tools/list_changed"
    assert changed["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == "listen-1"


# --- cancellation ---------------------------------------------------------------------------------------


async def test_closing_the_stream_cancels_the_bridged_request_upstream(
    portico: Portico, http: httpx2.AsyncClient, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    params = {"name": "sleep", "arguments": {"seconds": 60, "marker": str(marker)}}
    body = modern_body("tools/call", params)
    headers = {**modern_headers("tools/call", "sleep"), "authorization": f"Bearer {portico.token('old')}"}
    async with http.stream("POST", portico.url("old"), json=body, headers=headers) as response:
        assert response.headers["content-type"].startswith("text/event-stream")  # committed: the call is running
    with anyio.fail_after(20):
        while not marker.exists():  # noqa: ASYNC110 - the upstream writes a file, nothing to await
            await anyio.sleep(0.05)
    assert marker.read_text() == "cancelled"


# --- stdio and legacy SSE upstreams: server-everything, mcp-server-time ---------------------------------


@pytest.fixture(scope="module")
def everything_sse() -> Iterator[str]:
    with run_everything("sse", "/sse") as url:
        yield url


@pytest.mark.node
@pytest.mark.parametrize("transport", ["stdio", "sse"])
async def test_server_everything_elicits_and_samples_through_the_bridge(
    tmp_path: Path, transport: str, request: pytest.FixtureRequest
) -> None:
    config = (
        stdio_config()
        if transport == "stdio"
        else {"transport": "sse", "url": request.getfixturevalue("everything_sse")}
    )
    async with serve_portico(tmp_path, {"everything": config}) as portico:
        async with portico.client(
            "everything", mode="2026-07-28", elicitation_callback=answer_elicitation, sampling_callback=answer_sample
        ) as client:
            elicited = await client.call_tool("trigger-elicitation-request", {})
            sampled = await client.call_tool("trigger-sampling-request", {"prompt": "hi", "maxTokens": 5})
    assert "Ada" in json.dumps([block.model_dump() for block in elicited.content])
    assert "sampled!" in json.dumps([block.model_dump() for block in sampled.content])


async def answer_elicitation(context: ClientRequestContext, params: types.ElicitRequestParams) -> types.ElicitResult:
    return types.ElicitResult(action="accept", content={"name": "Ada", "check": True})


async def test_mcp_server_time_serves_a_modern_client(tmp_path: Path) -> None:
    server = {"transport": "stdio", "command": str(Path(sys.executable).with_name("mcp-server-time"))}
    async with serve_portico(tmp_path, {"time": server}) as portico:
        async with portico.client("time", mode="2026-07-28") as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
            result = await client.call_tool("get_current_time", {"timezone": "UTC"})
    assert "get_current_time" in tools
    assert "UTC" in text_of(result)


# --- handshake-era clients in front of a 2026-07-28-only upstream ------------------------------------------

MODERN_HTTP_SERVER = FIXTURES / "modern_http_server.py"
MODERN_STDIO_SERVER = FIXTURES / "modern_stdio_server.py"


@pytest.fixture(scope="module")
def modern_http() -> Iterator[str]:
    """The SDK fixture server over Streamable HTTP, refusing everything but 2026-07-28."""
    with python_http_server(MODERN_HTTP_SERVER) as url:
        yield url


@pytest.fixture(params=["streamable-http", "stdio"])
async def modern_portico(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Portico]:
    """Portico in front of a 2026-07-28-only upstream: over Streamable HTTP, or over stdio (a process per user)."""
    if request.param == "stdio":
        server = {"transport": "stdio", "command": sys.executable, "args": [str(MODERN_STDIO_SERVER)]}
    else:
        server = {"transport": "streamable-http", "url": request.getfixturevalue("modern_http")}
    async with serve_portico(tmp_path, {"new": server}, keepalive_interval=0.2) as running:
        yield running


async def test_a_handshake_client_initializes_lists_calls_and_streams_progress_from_a_modern_only_upstream(
    modern_portico: Portico,
) -> None:
    received: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        received.append(progress)

    async with modern_portico.client("new", mode="legacy") as client:
        version = client.protocol_version
        tools = {tool.name for tool in (await client.list_tools()).tools}
        echoed = text_of(await client.call_tool("echo", {"text": "hi"}))
        stepped = await client.call_tool("progress", {"steps": 3, "delay": 0.01}, progress_callback=on_progress)
        prompt = await client.get_prompt("greet", {"name": "Ada"})
    assert version == "2025-11-25"
    assert {"echo", "ask_modern", "progress"} <= tools
    assert echoed == "hi"
    assert text_of(stepped) == "done after 3 steps"
    assert received == [1, 2, 3]
    assert "Ada" in json.dumps(prompt.model_dump())


async def test_an_upstream_input_required_becomes_an_elicitation_for_the_handshake_client(
    modern_portico: Portico,
) -> None:
    async with modern_portico.client("new", mode="legacy", elicitation_callback=answer_name) as client:
        result = await client.call_tool("ask_modern", {"question": "Your name?"})
    assert text_of(result) == "accept:Ada"


async def test_closing_a_handshake_clients_stream_cancels_the_modern_upstream_request(
    modern_portico: Portico, http: httpx2.AsyncClient, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    mcp_session_id = await open_raw_session(http, modern_portico, "new")
    call = {
        "jsonrpc": "2.0",
        "id": 5,
        "method": "tools/call",
        "params": {"name": "sleep", "arguments": {"seconds": 60, "marker": str(marker)}},
    }
    headers = modern_portico.headers("new", **{"mcp-session-id": mcp_session_id, "mcp-protocol-version": "2025-11-25"})
    async with http.stream("POST", modern_portico.url("new"), json=call, headers=headers) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
    with anyio.fail_after(20):
        while not marker.exists():  # noqa: ASYNC110 - the upstream writes a file, nothing to await
            await anyio.sleep(0.05)
    assert marker.read_text() == "cancelled"


async def test_a_legacy_sse_client_reaches_a_modern_only_upstream_over_auto(tmp_path: Path, modern_http: str) -> None:
    """``/<name>/sse`` (2024-11-05 client) → ``transport: auto`` → a 2026-07-28-only Streamable HTTP server."""
    async with serve_portico(tmp_path, {"new": {"transport": "auto", "url": modern_http}}) as portico:
        token = portico.token("new", audience=portico.sse_url("new"))
        transport = sse_client(portico.sse_url("new"), headers={"authorization": f"Bearer {token}"})
        async with Client(transport, mode="legacy", elicitation_callback=answer_name) as client:
            echoed = text_of(await client.call_tool("echo", {"text": "hi"}))
            asked = text_of(await client.call_tool("ask_modern", {"question": "Your name?"}))
    assert (echoed, asked) == ("hi", "accept:Ada")
