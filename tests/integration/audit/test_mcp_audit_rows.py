"""One ``audit_events`` row per MCP request through a running gateway, on SQLite and PostgreSQL:
an allowed call, a call the policy denies (-32012), an upstream error and a legacy SSE call."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp.shared.exceptions import MCPError

from proxy.wire.errors import POLICY_DENIED
from tests.integration.audit.rows import audit_rows
from tests.integration.proxy.gateway.harness import fixture_stdio_server, serve_portico
from tests.integration.proxy.policy.paths import POLICY, connect

pytestmark = pytest.mark.anyio
FAST = {"flush_interval": 0.05}


async def test_calls_through_the_gateway_become_audit_rows_without_their_arguments(
    tmp_path: Path, database_url: str
) -> None:
    async with serve_portico(
        tmp_path, {"files": fixture_stdio_server()}, policy=POLICY, database_url=database_url, audit=FAST
    ) as portico:
        async with portico.client("files", subject="7", mode="legacy") as client:
            await client.call_tool("echo", {"text": "secret-argument"})
            with pytest.raises(MCPError):
                await client.call_tool("delete_repo", {"marker": "m"})
            with pytest.raises(MCPError):
                await client.read_resource("fixture://does-not-exist")
    calls = audit_rows(database_url, server="files")
    echo, denied = [row for row in calls if row["method"] == "tools/call"]
    assert (echo["kind"], echo["subject"], echo["target"], echo["era"]) == ("mcp_request", "7", "echo", "handshake")
    assert (echo["outcome"], echo["http_status"], echo["policy"]) == ("ok", 200, "allowed")
    assert echo["request_id"] and echo["duration_ms"] > 0 and echo["bytes_in"] > 0 and echo["bytes_out"] > 0
    assert echo["client_address"] == "127.0.0.1" and echo["client_id"] == "c"
    assert echo["arguments"] is None
    assert (denied["target"], denied["outcome"], denied["error_code"], denied["policy"]) == (
        "delete_repo",
        "error",
        POLICY_DENIED,
        "denied",
    )
    (read,) = [row for row in calls if row["method"] == "resources/read"]
    assert read["outcome"] == "error" and read["error_code"] is not None
    assert "secret-argument" not in repr(calls)


async def test_a_legacy_sse_call_becomes_an_audit_row(tmp_path: Path, database_url: str) -> None:
    async with serve_portico(
        tmp_path, {"files": fixture_stdio_server()}, policy=POLICY, database_url=database_url, audit=FAST
    ) as portico:
        async with connect(portico, "files", "legacy_sse") as client:
            await client.call_tool("echo", {"text": "x"})
    (call,) = audit_rows(database_url, tool="echo")
    assert (call["era"], call["transport"], call["outcome"], call["http_status"]) == (
        "2024-11-05-sse",
        "sse",
        "ok",
        202,
    )


async def test_audit_disabled_writes_no_rows(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'off.db'}"
    async with serve_portico(
        tmp_path, {"files": fixture_stdio_server()}, database_url=database_url, audit={"enabled": False}
    ) as portico:
        async with portico.client("files") as client:
            await client.call_tool("echo", {"text": "x"})
    assert audit_rows(database_url) == []
