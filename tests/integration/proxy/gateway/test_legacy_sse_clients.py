"""Legacy HTTP+SSE clients at ``/<name>/sse`` (2024-11-05 basic/transports §HTTP with SSE).

The SDK's own ``sse_client`` connects to Portico and reaches a stdio upstream (mcp-server-time and
the SDK fixture server), a Streamable HTTP upstream and a legacy SSE upstream through the same
backends as ``/<name>/mcp``. Raw requests check the bearer rules and the session binding.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.sse import sse_client

from tests.integration.proxy.gateway.harness import (
    Portico,
    fixture_http_server,
    fixture_stdio_server,
    initialize_body,
    serve_portico,
)
from tests.integration.proxy.gateway.test_sse_upstream import sse_config, sse_server

pytestmark = pytest.mark.anyio
TIME_SERVER = {"transport": "stdio", "command": "mcp-server-time"}


@pytest.fixture(scope="module")
def http_upstream() -> Iterator[str]:
    with fixture_http_server() as url:
        yield url


@asynccontextmanager
async def legacy_client(portico: Portico, server: str, subject: str = "1") -> AsyncIterator[Client]:
    token = portico.token(server, subject, audience=portico.sse_url(server))
    transport = sse_client(portico.sse_url(server), headers={"authorization": f"Bearer {token}"})
    async with Client(transport, mode="legacy") as client:
        yield client


async def test_sse_client_reaches_a_stdio_time_server(tmp_path: Path) -> None:
    """The issue's headline: a legacy SSE client in front of a stdio upstream (MCP Front's only mode, done right)."""
    async with serve_portico(tmp_path, {"time": TIME_SERVER}) as portico, legacy_client(portico, "time") as client:
        tools = await client.list_tools()
        result = await client.call_tool("get_current_time", {"timezone": "UTC"})
    assert "get_current_time" in {tool.name for tool in tools.tools}
    assert not result.is_error
    assert "UTC" in result.content[0].text  # type: ignore[union-attr]


async def test_sse_client_gets_progress_and_results_from_a_stdio_server(tmp_path: Path) -> None:
    """Replies and progress notifications arrive as ``message`` events in order."""
    received: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        received.append(progress)

    async with serve_portico(tmp_path, {"fx": fixture_stdio_server()}) as portico, legacy_client(portico, "fx") as c:
        with anyio.fail_after(20):
            done = await c.call_tool("progress", {"steps": 3, "delay": 0.01}, progress_callback=on_progress)
        echoed = await c.call_tool("echo", {"text": "hi"})
    assert received == [1, 2, 3]
    assert done.content[0].text == "done after 3 steps"  # type: ignore[union-attr]
    assert echoed.content[0].text == "hi"  # type: ignore[union-attr]


async def test_sse_client_reaches_a_streamable_http_server(tmp_path: Path, http_upstream: str) -> None:
    """The same backend as /<name>/mcp: the legacy session plays one upstream Streamable HTTP session."""
    servers = {"up": {"transport": "streamable-http", "url": http_upstream}}
    async with serve_portico(tmp_path, servers) as portico, legacy_client(portico, "up") as client:
        echoed = await client.call_tool("echo", {"text": "via http"})
        content = await client.read_resource("fixture://greeting")
    assert echoed.content[0].text == "via http"  # type: ignore[union-attr]
    assert content.contents[0].text == "hello from the fixture"  # type: ignore[union-attr]


async def test_sse_client_reaches_an_sse_server(tmp_path: Path) -> None:
    """Legacy on both sides: Portico's own endpoint is announced, never the upstream's."""
    with sse_server("absolute") as (url, _process):
        async with serve_portico(tmp_path, {"up": sse_config(url)}) as portico, legacy_client(portico, "up") as c:
            echoed = await c.call_tool("echo", {"text": "sse to sse"})
    assert echoed.content[0].text == "sse to sse"  # type: ignore[union-attr]


# --- bearer rules and session binding ---------------------------------------------------------------


async def open_stream(
    http: httpx2.AsyncClient, portico: Portico, server: str, token: str
) -> tuple[httpx2.Response, AsyncIterator[str], str]:
    """GET /<server>/sse and read the ``endpoint`` event; returns the open response, its text chunks, the endpoint."""
    request = http.build_request("GET", portico.sse_url(server), headers={"authorization": f"Bearer {token}"})
    response = await http.send(request, stream=True)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    chunks = response.aiter_text()
    buffer = ""
    async for text in chunks:
        buffer += text
        if "\n\n" in buffer:
            break
    match = re.search(r"event: endpoint\ndata: (\S+)", buffer)
    assert match is not None, buffer
    return response, chunks, match.group(1)


async def test_stream_without_a_token_is_401_with_a_challenge_naming_the_sse_resource(tmp_path: Path) -> None:
    """Spec-mandated (MCP authorization §Protected Resource Metadata Discovery; RFC 9728 §5.1)."""
    async with serve_portico(tmp_path, {"fx": fixture_stdio_server()}) as portico, httpx2.AsyncClient() as http:
        stream = await http.get(portico.sse_url("fx"))
        post = await http.post(f"{portico.sse_url('fx')}/messages?session_id=x", json={})
    for response in (stream, post):
        assert response.status_code == 401
        challenge = response.headers["www-authenticate"]
        assert f'resource_metadata="{portico.base_url}/.well-known/oauth-protected-resource/fx/sse"' in challenge


async def test_an_mcp_token_is_refused_at_the_sse_routes(tmp_path: Path) -> None:
    """Spec-mandated (RFC 8707, MCP authorization §Token Audience Binding): /mcp and /sse are distinct resources."""
    async with serve_portico(tmp_path, {"fx": fixture_stdio_server()}) as portico, httpx2.AsyncClient() as http:
        headers = {"authorization": f"Bearer {portico.token('fx')}"}
        stream = await http.get(portico.sse_url("fx"), headers=headers)
        sse_token = portico.token("fx", audience=portico.sse_url("fx"))
        response, chunks, endpoint = await open_stream(http, portico, "fx", sse_token)
        post = await http.post(f"{portico.base_url}{endpoint}", json=initialize_body(), headers=headers)
        await response.aclose()
    assert stream.status_code == 401
    assert 'error="invalid_token"' in stream.headers["www-authenticate"]
    assert post.status_code == 401


async def test_the_endpoint_is_portico_s_own_and_a_post_there_is_202(tmp_path: Path) -> None:
    """Spec-mandated: first event ``endpoint``; POSTs are accepted (202), the reply comes on the stream."""
    async with serve_portico(tmp_path, {"fx": fixture_stdio_server()}) as portico, httpx2.AsyncClient() as http:
        token = portico.token("fx", audience=portico.sse_url("fx"))
        response, chunks, endpoint = await open_stream(http, portico, "fx", token)
        post = await http.post(
            f"{portico.base_url}{endpoint}",
            json=initialize_body("2024-11-05"),
            headers={"authorization": f"Bearer {token}"},
        )
        buffer = ""
        with anyio.fail_after(10):
            async for text in chunks:
                buffer += text
                if "event: message" in buffer and buffer.endswith("\n\n"):
                    break
        await response.aclose()
    assert re.fullmatch(r"/fx/sse/messages\?session_id=[A-Za-z0-9_-]{32}", endpoint)  # 192 bits
    assert post.status_code == 202
    assert '"protocolVersion":"2024-11-05"' in buffer


async def test_another_users_token_on_a_session_id_is_404(tmp_path: Path) -> None:
    """Our choice (2025-11-25 security best practices §Session Hijacking): a session is bound to its user."""
    async with serve_portico(tmp_path, {"fx": fixture_stdio_server()}) as portico, httpx2.AsyncClient() as http:
        mine = portico.token("fx", "alice", audience=portico.sse_url("fx"))
        theirs = portico.token("fx", "mallory", audience=portico.sse_url("fx"))
        response, chunks, endpoint = await open_stream(http, portico, "fx", mine)
        stolen = await http.post(
            f"{portico.base_url}{endpoint}", json=initialize_body(), headers={"authorization": f"Bearer {theirs}"}
        )
        unknown = await http.post(
            f"{portico.sse_url('fx')}/messages?session_id=nope", json={}, headers={"authorization": f"Bearer {mine}"}
        )
        await response.aclose()
    assert stolen.status_code == 404
    assert unknown.status_code == 404


async def test_an_idle_stream_gets_keep_alive_comments(tmp_path: Path) -> None:
    """Our choice: a comment after each idle gateway.keepalive_interval keeps proxies from closing the stream."""
    servers = {"fx": fixture_stdio_server()}
    async with serve_portico(tmp_path, servers, keepalive_interval=0.05) as portico, httpx2.AsyncClient() as http:
        token = portico.token("fx", audience=portico.sse_url("fx"))
        response, chunks, _endpoint = await open_stream(http, portico, "fx", token)
        buffer = ""
        with anyio.fail_after(10):
            async for text in chunks:
                buffer += text
                if buffer.count(": keep-alive\n\n") >= 2:
                    break
        await response.aclose()
    assert buffer.count(": keep-alive\n\n") >= 2


async def test_a_request_before_initialize_is_answered_with_an_error_on_the_stream(tmp_path: Path) -> None:
    """Our choice: the POST is accepted (202) and the request's error arrives as its reply (-32600)."""
    async with serve_portico(tmp_path, {"fx": fixture_stdio_server()}) as portico, httpx2.AsyncClient() as http:
        token = portico.token("fx", audience=portico.sse_url("fx"))
        response, chunks, endpoint = await open_stream(http, portico, "fx", token)
        ping = {"jsonrpc": "2.0", "id": 7, "method": "ping"}
        post = await http.post(f"{portico.base_url}{endpoint}", json=ping, headers={"authorization": f"Bearer {token}"})
        buffer = ""
        with anyio.fail_after(10):
            async for text in chunks:
                buffer += text
                if "event: message" in buffer and buffer.endswith("\n\n"):
                    break
        await response.aclose()
    assert post.status_code == 202
    assert '"id":7' in buffer and '"code":-32600' in buffer


async def test_a_session_id_on_another_servers_route_is_404(tmp_path: Path) -> None:
    """Our choice: a session is bound to its server as well as its user."""
    servers = {"fx": fixture_stdio_server(), "other": fixture_stdio_server()}
    async with serve_portico(tmp_path, servers) as portico, httpx2.AsyncClient() as http:
        token = portico.token("fx", audience=portico.sse_url("fx"))
        response, _chunks, endpoint = await open_stream(http, portico, "fx", token)
        other_token = portico.token("other", audience=portico.sse_url("other"))
        moved = endpoint.replace("/fx/", "/other/")
        post = await http.post(
            f"{portico.base_url}{moved}", json=initialize_body(), headers={"authorization": f"Bearer {other_token}"}
        )
        await response.aclose()
    assert post.status_code == 404


async def test_a_message_with_duplicate_keys_or_bytes_that_are_not_utf8_is_a_parse_error(tmp_path: Path) -> None:
    """Our choice (issue #15 finding 9; I-JSON, RFC 7493): on the legacy message endpoint too, a body
    two parsers could read differently is refused (400, -32700) instead of resolved last-wins."""
    bodies = [
        b'{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/list"}',
        b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"\xed\xa0\x80"}}',
        '{"jsonrpc":"2.0","id":1,"method":"ping"}'.encode("utf-16"),
    ]
    async with serve_portico(tmp_path, {"fx": fixture_stdio_server()}) as portico, httpx2.AsyncClient() as http:
        token = portico.token("fx", audience=portico.sse_url("fx"))
        response, _chunks, endpoint = await open_stream(http, portico, "fx", token)
        answers = [
            await http.post(f"{portico.base_url}{endpoint}", content=body, headers={"authorization": f"Bearer {token}"})
            for body in bodies
        ]
        await response.aclose()
    assert [(answer.status_code, answer.json()["error"]["code"]) for answer in answers] == [(400, -32700)] * 3
