"""Interop: ``mcp-remote`` (npm 0.15.1) connects to Portico with its own OAuth flow and bridges MCP to stdio.

mcp-remote discovers Portico (401 → metadata), registers itself (DCR) with the callback
``http://localhost:3334/oauth/callback``, and prints the authorization URL on stderr; Chromium signs in and
approves, and the redirect reaches mcp-remote's own callback listener. The test then speaks MCP over
mcp-remote's stdio (newline-delimited JSON-RPC): initialize, tools/list, tools/call ``get_current_time``.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import pytest
from anyio.abc import ByteReceiveStream, Process
from anyio.streams.buffered import BufferedByteReceiveStream
from playwright.async_api import Page

from tests.support.deployment import Deployment
from tests.support.idp import sign_in_at_idp
from tests.support.pages import authorize_in_browser
from tests.support.processes import port_answers
from tests.support.requirements import missing, require_node22, require_node_package

pytestmark = [pytest.mark.anyio, pytest.mark.browser, pytest.mark.node]

CALLBACK_PORT = 3334
CALLBACK = f"http://localhost:{CALLBACK_PORT}/oauth/callback"
AUTHORIZE_LINE = re.compile(r"Please authorize this client by visiting:\s+(http\S+)")


async def authorization_url(stderr: ByteReceiveStream, seen: list[str]) -> str:
    """Read mcp-remote's stderr until it prints the authorization URL."""
    async for chunk in stderr:
        seen.append(chunk.decode(errors="replace"))
        match = AUTHORIZE_LINE.search("".join(seen))
        if match:
            return match.group(1)
    raise AssertionError("mcp-remote exited without an authorization URL:\n" + "".join(seen))


class StdioPeer:
    """Newline-delimited JSON-RPC over a child's stdin/stdout."""

    def __init__(self, process: Process) -> None:
        assert process.stdin is not None and process.stdout is not None
        self.process = process
        self.stdout = BufferedByteReceiveStream(process.stdout)
        self.next_id = 1

    async def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        await self._send({"jsonrpc": "2.0", "method": method, "params": params or {}})

    async def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        request_id, self.next_id = self.next_id, self.next_id + 1
        await self._send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params or {}})
        while True:
            line = (await self.stdout.receive_until(b"\n", 1 << 20)).strip()
            message = json.loads(line) if line.startswith(b"{") else {}
            if message.get("id") == request_id:
                assert "error" not in message, message
                result: dict[str, Any] = message["result"]
                return result

    async def _send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        await self.process.stdin.send(json.dumps(message).encode() + b"\n")


async def test_mcp_remote_registers_signs_in_and_bridges_a_tool_call(
    page: Page, deployment: Deployment, tmp_path: Path
) -> None:
    node = require_node22()
    proxy_js = require_node_package("mcp-remote") / "dist" / "proxy.js"
    if port_answers(CALLBACK_PORT):
        missing(f"port {CALLBACK_PORT} (mcp-remote's OAuth callback) is in use")
    config_dir = tmp_path / "mcp-remote"
    config_dir.mkdir()
    stderr: list[str] = []
    url = deployment.url("time")
    argv = [str(node), str(proxy_js), url, str(CALLBACK_PORT), "--allow-http", "--transport", "http-only"]
    env = {"MCP_REMOTE_CONFIG_DIR": str(config_dir), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    with anyio.fail_after(90):
        async with await anyio.open_process(argv, env=env) as process:
            assert process.stderr is not None
            try:
                authorize = await authorization_url(process.stderr, stderr)
                assert authorize.startswith(f"{deployment.base_url}/authorize?"), authorize
                async with page.expect_response(lambda r: r.url.startswith(CALLBACK)) as callback:
                    await authorize_in_browser(page, authorize, "alice", sign_in_at_idp)
                assert (await callback.value).ok
                peer = StdioPeer(process)
                initialize = await peer.request(
                    "initialize",
                    {
                        "protocolVersion": "2025-06-18",
                        "capabilities": {},
                        "clientInfo": {"name": "e2e", "version": "0"},
                    },
                )
                await peer.notify("notifications/initialized")
                tools = await peer.request("tools/list")
                result = await peer.request(
                    "tools/call", {"name": "get_current_time", "arguments": {"timezone": "UTC"}}
                )
            finally:
                process.terminate()
                print("---- mcp-remote stderr ----\n" + "".join(stderr))
    assert initialize["protocolVersion"], stderr
    assert "get_current_time" in {tool["name"] for tool in tools["tools"]}
    assert not result.get("isError") and str(datetime.now(UTC).year) in result["content"][0]["text"]
