"""Stdio upstreams behind Portico, driven by the official MCP SDK client in both eras."""

from __future__ import annotations

import os
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp.shared.exceptions import MCPError
from mcp_types import ElicitRequestParams, ElicitResult
from sqlalchemy import event

from tests.integration.proxy.gateway.harness import (
    call_progress_through_a_gate,
    fixture_stdio_server,
    legacy_stdio_server,
    modern_body,
    modern_headers,
    open_raw_session,
    serve_portico,
    sse_messages,
)

pytestmark = pytest.mark.anyio
MODES = ["legacy", "auto"]
FIXTURE = {"fixture": fixture_stdio_server()}


@pytest.mark.parametrize("mode", MODES)
async def test_mcp_server_time_lists_and_calls_tools_through_portico(tmp_path: Path, mode: str) -> None:
    """Our choice: stdio servers are served over Streamable HTTP to every client revision."""
    async with serve_portico(tmp_path, {"time": {"transport": "stdio", "command": "mcp-server-time"}}) as portico:
        async with portico.client("time", mode=mode) as client:
            version = client.protocol_version
            tools = await client.list_tools()
            result = await client.call_tool("get_current_time", {"timezone": "UTC"})
    assert version == ("2026-07-28" if mode == "auto" else "2025-11-25")
    assert {"get_current_time", "convert_time"} <= {tool.name for tool in tools.tools}
    assert '"timezone": "UTC"' in result.content[0].text  # type: ignore[union-attr]


@pytest.mark.parametrize("mode", MODES)
async def test_resources_and_prompts_pass_through(tmp_path: Path, mode: str) -> None:
    """Spec-mandated relay of resources/* and prompts/* (server/resources.mdx, server/prompts.mdx)."""
    async with serve_portico(tmp_path, FIXTURE) as portico, portico.client("fixture", mode=mode) as client:
        resources = await client.list_resources()
        content = await client.read_resource("fixture://greeting")
        prompts = await client.list_prompts()
        prompt = await client.get_prompt("greet", {"name": "Ada"})
    assert [str(r.uri) for r in resources.resources] == ["fixture://greeting", "fixture://secret"]
    assert content.contents[0].text == "hello from the fixture"  # type: ignore[union-attr]
    assert [p.name for p in prompts.prompts] == ["greet", "leak"]
    assert "Ada" in prompt.messages[0].content.text  # type: ignore[union-attr]


@pytest.mark.parametrize("mode", MODES)
async def test_progress_notifications_arrive_in_order_as_they_are_sent(tmp_path: Path, mode: str) -> None:
    """Our choice (no buffering): each step is sent only after the client received the previous one."""
    async with serve_portico(tmp_path, FIXTURE) as portico, portico.client("fixture", mode=mode) as client:
        assert await call_progress_through_a_gate(client, tmp_path) == [1, 2, 3, 4]


async def test_child_sees_only_allow_listed_and_configured_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Our choice (seed-gateways.md §1.3): Portico's own environment never reaches a stdio child."""
    monkeypatch.setenv("PORTICO_SECRET_KEY", "must-not-leak-0123456789")
    monkeypatch.setenv("GATEWAY_TEST_RANDOM_VARIABLE", "must-not-leak")
    servers = {"fixture": fixture_stdio_server(env={"FIXTURE_TOKEN": "configured"})}
    async with serve_portico(tmp_path, servers) as portico, portico.client("fixture") as client:
        result = await client.call_tool("whoami", {})
    env_keys = set(result.structured_content["env_keys"])
    assert "FIXTURE_TOKEN" in env_keys
    assert "PORTICO_SECRET_KEY" not in env_keys and "GATEWAY_TEST_RANDOM_VARIABLE" not in env_keys
    # LC_CTYPE may be added by the child's own interpreter (PEP 538 locale coercion).
    assert env_keys <= {"PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "FIXTURE_TOKEN"}


async def test_two_users_get_separate_processes(tmp_path: Path) -> None:
    """Our choice (isolation: per_user, the default): one process per user and server."""
    async with serve_portico(tmp_path, FIXTURE) as portico:
        async with portico.client("fixture", subject="1") as first, portico.client("fixture", subject="2") as second:
            pid_1 = (await first.call_tool("whoami", {})).structured_content["pid"]
            pid_2 = (await second.call_tool("whoami", {})).structured_content["pid"]
        subjects = sorted(str(u.key.subject) for u in portico.gateway.pool.live())
    assert pid_1 != pid_2
    assert subjects == ["1", "2"]


async def test_one_users_session_id_is_refused_for_another_user(tmp_path: Path) -> None:
    """Spec-mandated (2025-11-25 security best practices §Session Hijacking): sessions are bound to the user."""
    async with serve_portico(tmp_path, FIXTURE) as portico, httpx2.AsyncClient(timeout=30) as http:
        mcp_session_id = await open_raw_session(http, portico, "fixture", subject="1")
        ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
        headers = {"mcp-session-id": mcp_session_id, "mcp-protocol-version": "2025-11-25"}
        own = await http.post(portico.url("fixture"), json=ping, headers=portico.headers("fixture", "1", **headers))
        other = await http.post(portico.url("fixture"), json=ping, headers=portico.headers("fixture", "2", **headers))
    assert own.status_code == 200
    assert other.status_code == 404
    assert other.json()["id"] is None


async def test_sessions_of_one_user_share_the_process_and_the_cached_handshake(tmp_path: Path) -> None:
    """Our choice: the upstream is initialized once per user and revision; concurrent ids never collide."""
    async with serve_portico(tmp_path, FIXTURE) as portico:
        async with portico.client("fixture", mode="legacy") as a, portico.client("fixture", mode="legacy") as b:
            results: dict[str, str] = {}

            async def call(client_name: str, client: object, index: int) -> None:
                result = await client.call_tool("echo", {"text": f"{client_name}-{index}"})  # type: ignore[attr-defined]
                results[f"{client_name}-{index}"] = result.content[0].text

            async with anyio.create_task_group() as group:
                for index in range(15):
                    group.start_soon(call, "a", a, index)
                    group.start_soon(call, "b", b, index)
            pids = {(await c.call_tool("whoami", {})).structured_content["pid"] for c in (a, b)}
        assert len(portico.gateway.pool.live()) == 1
    assert all(key == value for key, value in results.items()) and len(results) == 30
    assert len(pids) == 1


@pytest.mark.parametrize("mode", MODES)
async def test_a_crash_fails_the_request_in_flight_and_the_next_request_respawns(tmp_path: Path, mode: str) -> None:
    """Our choice: a clear JSON-RPC error (-32004) for the request in flight; the next request restarts."""
    async with serve_portico(tmp_path, FIXTURE) as portico, portico.client("fixture", mode=mode) as client:
        before = (await client.call_tool("whoami", {})).structured_content["pid"]
        with anyio.fail_after(10), pytest.raises(MCPError) as failure:
            await client.call_tool("crash", {"after": 0.1})
        after = (await client.call_tool("whoami", {})).structured_content["pid"]
    assert failure.value.code == -32004
    assert "exited" in failure.value.error.message
    assert before != after


async def test_an_idle_process_is_stopped_after_its_idle_timeout(tmp_path: Path) -> None:
    """Our choice: servers.<name>.idle_timeout bounds how long an unused process lives."""
    servers = {"fixture": fixture_stdio_server(idle_timeout=0.3)}
    async with serve_portico(tmp_path, servers) as portico, portico.client("fixture") as client:
        pid = (await client.call_tool("whoami", {})).structured_content["pid"]
        with anyio.fail_after(5):
            while portico.gateway.pool.live():  # noqa: ASYNC110 - observing the reaper from outside
                await anyio.sleep(0.05)
            while _alive(pid):  # noqa: ASYNC110
                await anyio.sleep(0.05)
        again = (await client.call_tool("whoami", {})).structured_content["pid"]
    assert again != pid


async def test_closing_a_2026_response_stream_cancels_the_upstream_request(tmp_path: Path) -> None:
    """Spec-mandated (2026-07-28 streamable-http §Cancellation): a disconnect is the cancellation."""
    marker = tmp_path / "marker"
    body = modern_body("tools/call", {"name": "sleep", "arguments": {"seconds": 10, "marker": str(marker)}})
    async with serve_portico(tmp_path, FIXTURE) as portico, httpx2.AsyncClient(timeout=30) as http:
        headers = {**modern_headers("tools/call", "sleep"), "authorization": f"Bearer {portico.token('fixture')}"}
        with anyio.move_on_after(1.0):
            await http.post(portico.url("fixture"), json=body, headers=headers)
        with anyio.fail_after(5):
            while not marker.exists():  # noqa: ASYNC110 - the upstream process writes the marker
                await anyio.sleep(0.05)
    assert marker.read_text() == "cancelled"


async def test_a_slow_reader_gets_the_response_while_excess_notifications_are_dropped(tmp_path: Path) -> None:
    """Our choice (docs/_gateway.md): bounded per-stream buffer; notifications beyond it are dropped."""
    count = 1000
    async with (
        serve_portico(tmp_path, FIXTURE, stream_buffer_messages=8) as portico,
        httpx2.AsyncClient(timeout=60) as http,
    ):
        mcp_session_id = await open_raw_session(http, portico, "fixture")
        call = {
            "jsonrpc": "2.0",
            "id": 7,
            "method": "tools/call",
            "params": {"name": "flood", "arguments": {"count": count, "size": 20000}, "_meta": {"progressToken": "t"}},
        }
        headers = portico.headers("fixture", **{"mcp-session-id": mcp_session_id, "mcp-protocol-version": "2025-11-25"})
        async with http.stream("POST", portico.url("fixture"), json=call, headers=headers) as response:
            await anyio.sleep(1.5)  # read nothing while the upstream floods
            text = (await response.aread()).decode()
    messages = sse_messages(text)
    progress = [m for m in messages if m.get("method") == "notifications/progress"]
    assert messages[-1]["id"] == 7 and messages[-1]["result"]["content"][0]["text"] == f"flooded {count}"
    assert 0 < len(progress) < count
    assert all(m["params"]["progressToken"] == "t" for m in progress)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_a_server_request_during_a_call_reaches_the_client_and_its_answer_the_server(tmp_path: Path) -> None:
    """Spec (2025-11-25 transports §Sending Messages): related requests may ride the POST's stream."""

    async def answer(_context: object, params: ElicitRequestParams) -> ElicitResult:
        return ElicitResult(action="accept", content={"answer": f"re: {params.message}"})

    async with serve_portico(tmp_path, FIXTURE) as portico:
        async with portico.client("fixture", mode="legacy", elicitation_callback=answer) as client:
            result = await client.call_tool("ask", {"question": "colour?"})
    assert result.content[0].text == "accept:re: colour?"  # type: ignore[union-attr]


async def test_a_notification_outside_any_request_reaches_the_get_stream(tmp_path: Path) -> None:
    """Spec (2025-11-25 transports §Listening for Messages): unsolicited messages use the GET stream."""
    async with serve_portico(tmp_path, FIXTURE) as portico, httpx2.AsyncClient(timeout=30) as http:
        mcp_session_id = await open_raw_session(http, portico, "fixture")
        headers = portico.headers("fixture", **{"mcp-session-id": mcp_session_id, "mcp-protocol-version": "2025-11-25"})
        call = {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "announce_later", "arguments": {"delay": 0.5}},
        }
        async with http.stream("GET", portico.url("fixture"), headers=headers) as stream:
            assert (await http.post(portico.url("fixture"), json=call, headers=headers)).status_code == 200
            with anyio.fail_after(10):
                async for line in stream.aiter_lines():
                    if line.startswith("data:"):
                        break
    assert sse_messages(line)[0]["method"] == "notifications/tools/list_changed"


async def test_an_auto_client_is_bridged_to_2026_for_a_handshake_only_server(tmp_path: Path) -> None:
    """Era bridging (docs/protocol-bridging.md): Portico answers server/discover, so auto clients stay modern."""
    async with serve_portico(tmp_path, {"legacy": legacy_stdio_server()}) as portico:
        async with portico.client("legacy", mode="auto") as client:
            version = client.protocol_version
    assert version == "2026-07-28"


async def test_keep_alive_comments_flow_on_idle_stdio_streams(tmp_path: Path) -> None:
    """Our choice (gateway.keepalive_interval) for stdio-backed streams too."""
    async with (
        serve_portico(tmp_path, FIXTURE, keepalive_interval=0.2) as portico,
        httpx2.AsyncClient(timeout=30) as http,
    ):
        body = modern_body("tools/call", {"name": "progress", "arguments": {"steps": 1, "delay": 1.0}})
        headers = {**modern_headers("tools/call", "progress"), "authorization": f"Bearer {portico.token('fixture')}"}
        response = await http.post(portico.url("fixture"), json=body, headers=headers)
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text.count(": keep-alive") >= 2
    assert sse_messages(response.text)[-1]["result"]["content"][0]["text"] == "done after 1 steps"


async def test_a_warm_tool_call_touches_no_database(tmp_path: Path) -> None:
    """Our choice (hot path): tokens verify locally, credentials come from memory."""
    statements: list[str] = []

    def record(*args: object) -> None:
        if "audit_events" not in str(args[2]):  # the audit trail's batched writer, not the call (ADR 0018)
            statements.append(str(args[2]))

    async with serve_portico(tmp_path, FIXTURE) as portico, portico.client("fixture") as client:
        await client.call_tool("echo", {"text": "warm-up"})
        event.listen(portico.runtime.engine, "before_cursor_execute", record)
        try:
            await client.call_tool("echo", {"text": "warm"})
        finally:
            event.remove(portico.runtime.engine, "before_cursor_execute", record)
    assert statements == []


async def test_a_shared_server_runs_one_process_for_everyone(tmp_path: Path) -> None:
    """Our choice: isolation: shared only when set explicitly (and the server takes no per-user credential)."""
    async with serve_portico(tmp_path, {"fixture": fixture_stdio_server(isolation="shared")}) as portico:
        async with portico.client("fixture", subject="1") as first, portico.client("fixture", subject="2") as second:
            pid_1 = (await first.call_tool("whoami", {})).structured_content["pid"]
            pid_2 = (await second.call_tool("whoami", {})).structured_content["pid"]
    assert pid_1 == pid_2


async def test_a_handshake_era_cancellation_reaches_the_upstream_under_its_own_id(tmp_path: Path) -> None:
    """Spec-mandated (basic/utilities/cancellation.mdx): notifications/cancelled names the request; ids are remapped."""
    marker = tmp_path / "marker"
    async with serve_portico(tmp_path, FIXTURE) as portico, portico.client("fixture", mode="legacy") as client:
        await client.call_tool("echo", {"text": "shift the upstream ids away from the client's"})
        with pytest.raises(MCPError):
            await client.call_tool("sleep", {"seconds": 10, "marker": str(marker)}, read_timeout_seconds=0.5)
        with anyio.fail_after(5):
            while not marker.exists():  # noqa: ASYNC110 - the upstream process writes the marker
                await anyio.sleep(0.05)
        assert (await client.call_tool("echo", {"text": "still fine"})).content[0].text == "still fine"  # type: ignore[union-attr]
    assert marker.read_text() == "cancelled"


async def test_the_per_user_process_cap_evicts_idle_processes_and_refuses_when_all_are_busy(tmp_path: Path) -> None:
    """Our choice (gateway.max_processes_per_user): 503 with -32006 only when nothing can be freed."""
    sleep: dict[str, object] = {"name": "sleep", "arguments": {"seconds": 1.5, "marker": str(tmp_path / "marker")}}
    async with (
        serve_portico(tmp_path, FIXTURE, max_processes_per_user=1) as portico,
        httpx2.AsyncClient(timeout=30) as http,
    ):
        bearer = {"authorization": f"Bearer {portico.token('fixture')}"}

        async def modern(method: str, params: dict[str, object] | None = None, name: str | None = None) -> int:
            headers = {**modern_headers(method, name), **bearer}
            response = await http.post(portico.url("fixture"), json=modern_body(method, params), headers=headers)
            return response.status_code

        async with portico.client("fixture", mode="legacy") as client:
            await client.call_tool("echo", {"text": "the handshake-era process is idle after this"})
            evicting = await modern("tools/list")  # needs the modern-era process: the idle one is stopped
            async with anyio.create_task_group() as group:
                group.start_soon(modern, "tools/call", sleep, "sleep")
                await anyio.sleep(0.5)  # the only process allowed is now busy
                with pytest.raises(MCPError) as refused:
                    await client.call_tool("echo", {"text": "needs its own process back"})
    assert evicting == 200
    assert refused.value.code == -32006
