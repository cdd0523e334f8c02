"""Streamable HTTP upstreams behind Portico: the SDK fixture server (both eras) and a scripted fake."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp.shared.exceptions import MCPError
from mcp_types import ElicitRequestParams, ElicitResult

from tests.integration.proxy.gateway.fake_upstream import UPSTREAM_SESSION_ID, serve_fake_upstream
from tests.integration.proxy.gateway.harness import (
    call_progress_through_a_gate,
    fixture_http_server,
    free_port,
    initialize_body,
    leaf_error,
    modern_body,
    modern_headers,
    open_raw_session,
    serve_portico,
    sse_messages,
)

pytestmark = pytest.mark.anyio
MODES = ["legacy", "auto"]


@pytest.fixture(scope="module")
def upstream_url() -> Iterator[str]:
    with fixture_http_server() as url:
        yield url


def http_server(url: str, **extra: object) -> dict[str, object]:
    return {"transport": "streamable-http", "url": url, **extra}


@pytest.mark.parametrize("mode", MODES)
async def test_tools_resources_and_prompts_through_an_http_upstream(
    tmp_path: Path, upstream_url: str, mode: str
) -> None:
    """Spec-mandated relay of every request type; the SDK server speaks both eras."""
    async with serve_portico(tmp_path, {"up": http_server(upstream_url)}) as portico:
        async with portico.client("up", mode=mode) as client:
            version = client.protocol_version
            tools = await client.list_tools()
            echoed = await client.call_tool("echo", {"text": "hi"})
            content = await client.read_resource("fixture://greeting")
            prompt = await client.get_prompt("greet", {"name": "Ada"})
    assert version == ("2026-07-28" if mode == "auto" else "2025-11-25")
    assert "echo" in {tool.name for tool in tools.tools}
    assert echoed.content[0].text == "hi"  # type: ignore[union-attr]
    assert content.contents[0].text == "hello from the fixture"  # type: ignore[union-attr]
    assert "Ada" in prompt.messages[0].content.text  # type: ignore[union-attr]


@pytest.mark.parametrize("mode", MODES)
async def test_progress_from_an_http_upstream_is_relayed_unbuffered(
    tmp_path: Path, upstream_url: str, mode: str
) -> None:
    """Our choice: SSE relayed event by event (each step is sent only after the client received the last)."""
    async with serve_portico(tmp_path, {"up": http_server(upstream_url)}) as portico:
        async with portico.client("up", mode=mode) as client:
            assert await call_progress_through_a_gate(client, tmp_path) == [1, 2, 3, 4]


async def test_the_upstream_session_id_stays_behind_portico_and_bound_to_the_user(tmp_path: Path) -> None:
    """Our choice: clients see only Portico's Mcp-Session-Id; another user presenting it gets 404."""
    async with serve_fake_upstream() as fake, serve_portico(tmp_path, {"up": http_server(fake.url)}) as portico:
        async with httpx2.AsyncClient(timeout=30) as http:
            response = await http.post(portico.url("up"), json=initialize_body(), headers=portico.headers("up"))
            mcp_session_id = response.headers["mcp-session-id"]
            call = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
            session = {"mcp-session-id": mcp_session_id}
            own = await http.post(portico.url("up"), json=call, headers=portico.headers("up", "1", **session))
            other = await http.post(portico.url("up"), json=call, headers=portico.headers("up", "2", **session))
            deleted = await http.delete(portico.url("up"), headers=portico.headers("up", "1", **session))
    assert mcp_session_id != UPSTREAM_SESSION_ID
    assert UPSTREAM_SESSION_ID not in response.text + own.text + str(own.headers)
    assert (own.status_code, own.headers["mcp-session-id"]) == (200, mcp_session_id)
    assert other.status_code == 404
    assert deleted.status_code == 200
    upstream_calls = [(seen["method"], seen.get("mcp-session-id")) for seen in fake.seen]
    assert upstream_calls == [("POST", None), ("POST", UPSTREAM_SESSION_ID), ("DELETE", UPSTREAM_SESSION_ID)]


async def test_client_credentials_and_identity_headers_never_reach_the_upstream(tmp_path: Path) -> None:
    """Spec-mandated (authorization §Token Passthrough): the client's token is not forwarded; ours is."""
    async with serve_fake_upstream() as fake:
        servers = {"up": http_server(fake.url, headers={"X-Api-Key": "configured-secret-value"})}
        async with serve_portico(tmp_path, servers) as portico, httpx2.AsyncClient(timeout=30) as http:
            extra = {
                "cookie": "sid=abc",
                "x-forwarded-for": "10.0.0.1",
                "x-remote-user": "admin",
                "mcp-param-region": "eu",
            }
            await http.post(portico.url("up"), json=initialize_body(), headers=portico.headers("up", **extra))
    seen = fake.seen[0]
    assert seen["x-api-key"] == "configured-secret-value"
    assert "authorization" not in seen and "cookie" not in seen
    assert "x-forwarded-for" not in seen and "x-remote-user" not in seen
    assert seen["mcp-param-region"] == "eu"


async def test_an_upstream_refusing_portico_is_reported_without_its_challenge(tmp_path: Path) -> None:
    """Our choice: an upstream 401 is a gateway fault (502, -32009), never a challenge to the client."""
    async with serve_fake_upstream() as fake, serve_portico(tmp_path, {"up": http_server(fake.url)}) as portico:
        async with httpx2.AsyncClient(timeout=30) as http:
            body = modern_body("tools/call", {"name": "deny", "arguments": {}})
            headers = {**modern_headers("tools/call", "deny"), "authorization": f"Bearer {portico.token('up')}"}
            response = await http.post(portico.url("up"), json=body, headers=headers)
    assert response.status_code == 502
    assert "www-authenticate" not in response.headers
    assert (response.json()["id"], response.json()["error"]["code"]) == (1, -32009)


@pytest.mark.parametrize("mode", MODES)
async def test_an_unreachable_upstream_is_a_clear_json_rpc_error(tmp_path: Path, mode: str) -> None:
    """Our choice: -32003 with the request's id and HTTP 502, in both eras."""
    servers = {"up": http_server(f"http://127.0.0.1:{free_port()}/mcp", connect_timeout=2)}
    async with serve_portico(tmp_path, servers) as portico, httpx2.AsyncClient(timeout=30) as http:
        response = await http.post(portico.url("up"), json=initialize_body(request_id=5), headers=portico.headers("up"))
        with pytest.raises(ExceptionGroup) as failure:
            async with portico.client("up", mode=mode):
                pass
    assert response.status_code == 502
    assert (response.json()["id"], response.json()["error"]["code"]) == (5, -32003)
    assert "unreachable" in response.json()["error"]["message"]
    error = leaf_error(failure.value)
    assert isinstance(error, MCPError) and error.code == -32003


async def test_an_upstream_dying_mid_stream_ends_the_clients_stream_with_an_error(tmp_path: Path) -> None:
    """Our choice: nothing hangs; the relayed stream's last event is a -32004 error for the request."""
    async with serve_fake_upstream() as fake, serve_portico(tmp_path, {"up": http_server(fake.url)}) as portico:
        async with httpx2.AsyncClient(timeout=30) as http:
            body = modern_body("tools/call", {"name": "die", "arguments": {}}, request_id=9)
            headers = {**modern_headers("tools/call", "die"), "authorization": f"Bearer {portico.token('up')}"}
            with anyio.fail_after(10):
                response = await http.post(portico.url("up"), json=body, headers=headers)
    messages = sse_messages(response.text)
    assert messages[0]["method"] == "notifications/message"
    assert (messages[-1]["id"], messages[-1]["error"]["code"]) == (9, -32004)


async def test_a_stream_is_resumed_with_last_event_id_through_portico(tmp_path: Path, upstream_url: str) -> None:
    """Spec-mandated where the upstream supports it (2025-11-25 transports §Resumability)."""
    async with (
        serve_portico(tmp_path, {"up": http_server(upstream_url)}) as portico,
        httpx2.AsyncClient(timeout=30) as http,
    ):
        mcp_session_id = await open_raw_session(http, portico, "up")
        session = {"mcp-session-id": mcp_session_id, "mcp-protocol-version": "2025-11-25"}
        call = {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": "progress", "arguments": {"steps": 3, "delay": 0.3}, "_meta": {"progressToken": 3}},
        }
        last_event_id = None
        async with http.stream("POST", portico.url("up"), json=call, headers=portico.headers("up", **session)) as first:
            async for line in first.aiter_lines():
                if line.startswith("id:"):
                    last_event_id = line[3:].strip()
                if line.startswith("data:") and "notifications/progress" in line:
                    break  # drop the connection after the first progress notification
        assert last_event_id is not None
        headers = portico.headers("up", **session, **{"last-event-id": last_event_id})
        lines: list[str] = []
        with anyio.fail_after(10):
            async with http.stream("GET", portico.url("up"), headers=headers) as resumed:
                async for line in resumed.aiter_lines():
                    lines.append(line)
                    if line.startswith("data:") and '"result"' in line:
                        break  # the resumed stream stays open for more; the response is what we wanted
    messages = sse_messages("\n".join(lines))
    assert messages[-1]["id"] == 3 and messages[-1]["result"]["content"][0]["text"] == "done after 3 steps"
    assert [m["params"]["progress"] for m in messages if m.get("method") == "notifications/progress"] == [2, 3]


async def test_idle_streams_get_keep_alive_comments(tmp_path: Path, upstream_url: str) -> None:
    """Our choice (gateway.keepalive_interval): a comment after every idle interval keeps proxies from cutting."""
    async with (
        serve_portico(tmp_path, {"up": http_server(upstream_url)}, keepalive_interval=0.2) as portico,
        httpx2.AsyncClient(timeout=30) as http,
    ):
        body = modern_body("tools/call", {"name": "progress", "arguments": {"steps": 1, "delay": 1.0}})
        headers = {**modern_headers("tools/call", "progress"), "authorization": f"Bearer {portico.token('up')}"}
        body["params"]["_meta"]["progressToken"] = 1
        response = await http.post(portico.url("up"), json=body, headers=headers)
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text.count(": keep-alive") >= 2
    assert sse_messages(response.text)[-1]["result"]["content"][0]["text"] == "done after 1 steps"


async def test_a_server_request_from_an_http_upstream_round_trips_through_portico(
    tmp_path: Path, upstream_url: str
) -> None:
    """Spec (2025-11-25 transports): an elicitation request on the POST stream, its answer POSTed back."""

    async def answer(_context: object, params: ElicitRequestParams) -> ElicitResult:
        return ElicitResult(action="accept", content={"answer": f"re: {params.message}"})

    async with serve_portico(tmp_path, {"up": http_server(upstream_url)}) as portico:
        async with portico.client("up", mode="legacy", elicitation_callback=answer) as client:
            result = await client.call_tool("ask", {"question": "size?"})
    assert result.content[0].text == "accept:re: size?"  # type: ignore[union-attr]
