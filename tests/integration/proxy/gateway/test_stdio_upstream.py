"""Stdio upstreams behind Portico, driven by the official MCP SDK client in both eras."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.proxy.gateway.harness import serve_portico

pytestmark = pytest.mark.anyio
MODES = ["legacy", "auto"]


@pytest.mark.parametrize("mode", MODES)
async def test_mcp_server_time_lists_and_calls_tools_through_portico(tmp_path: Path, mode: str) -> None:
    """Our choice: stdio servers are served over Streamable HTTP to every client revision."""
    async with serve_portico(tmp_path, {"time": {"transport": "stdio", "command": "mcp-server-time"}}) as portico:
        async with portico.client("time", mode=mode) as client:
            version = client.protocol_version
            tools = await client.list_tools()
            result = await client.call_tool("get_current_time", {"timezone": "UTC"})
    expected_version = "2026-07-28" if mode == "auto" else "2025-11-25"
    assert version == expected_version
    assert {"get_current_time", "convert_time"} <= {tool.name for tool in tools.tools}
    assert '"timezone": "UTC"' in result.content[0].text  # type: ignore[union-attr]
