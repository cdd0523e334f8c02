"""``@modelcontextprotocol/server-everything`` (the reference TypeScript server) behind Portico.

The package comes from ``tests/node`` (``make node-deps``) and runs on its Node 22; without them these
tests are skipped (failed with ``PORTICO_REQUIRE_ALL=1``). It binds every interface, so it is started with a
preloaded script that pins ``listen`` to 127.0.0.1 (checked with ``ss``).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.integration.proxy.gateway.harness import serve_portico
from tests.support.everything import everything_stdio_config, run_everything

pytestmark = [pytest.mark.anyio, pytest.mark.node]
REPO = Path(__file__).resolve().parents[4]
MODES = ["legacy", "auto", "2026-07-28"]


def stdio_config() -> dict[str, Any]:
    return everything_stdio_config()


@pytest.fixture(scope="module")
def everything_http() -> Iterator[str]:
    with run_everything("streamableHttp", "/mcp") as url:
        yield url


@pytest.fixture(scope="module")
def everything_sse() -> Iterator[str]:
    """The legacy HTTP+SSE mode (2024-11-05): ``GET /sse``, endpoint event ``/message?sessionId=…``."""
    with run_everything("sse", "/sse") as url:
        yield url


def test_server_everything_listens_on_loopback_only(everything_http: str) -> None:
    port = everything_http.split(":")[2].split("/")[0]
    listing = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=True).stdout
    addresses = {line.split()[3].rsplit(":", 1)[0] for line in listing.splitlines() if line.strip()}
    assert addresses == {"127.0.0.1"}


async def exercise(portico: Any, mode: str) -> dict[str, Any]:
    progress: list[float] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(value)

    async with portico.client("everything", mode=mode) as client:
        outcome: dict[str, Any] = {"version": client.protocol_version}
        outcome["tools"] = {tool.name for tool in (await client.list_tools()).tools}
        outcome["echo"] = (await client.call_tool("echo", {"message": "hi"})).content[0].text
        outcome["sum"] = (await client.call_tool("get-sum", {"a": 2, "b": 3})).content[0].text
        resources = (await client.list_resources()).resources
        outcome["read"] = (await client.read_resource(str(resources[0].uri))).contents[0]
        outcome["prompt"] = (await client.get_prompt("simple-prompt")).messages[0].content
        with anyio.fail_after(20):
            await client.call_tool(
                "trigger-long-running-operation", {"duration": 1, "steps": 3}, progress_callback=on_progress
            )
        outcome["progress"] = progress
    return outcome


def check(outcome: dict[str, Any], mode: str) -> None:
    # The server speaks up to 2025-11-25; 2026-07-28 and auto clients are bridged (docs/protocol-bridging.md).
    assert outcome["version"] == ("2025-11-25" if mode == "legacy" else "2026-07-28")
    assert {"echo", "get-sum", "trigger-long-running-operation"} <= outcome["tools"]
    assert outcome["echo"] == "Echo: hi"
    assert "5" in outcome["sum"]
    assert outcome["read"].uri
    assert outcome["prompt"].text
    assert outcome["progress"] == [1, 2, 3]


@pytest.mark.parametrize("mode", MODES)
async def test_server_everything_over_stdio(tmp_path: Path, mode: str) -> None:
    async with serve_portico(tmp_path, {"everything": stdio_config()}) as portico:
        check(await exercise(portico, mode), mode)


@pytest.mark.parametrize("mode", MODES)
async def test_server_everything_over_streamable_http(tmp_path: Path, everything_http: str, mode: str) -> None:
    async with serve_portico(
        tmp_path, {"everything": {"transport": "streamable-http", "url": everything_http}}
    ) as portico:
        check(await exercise(portico, mode), mode)


@pytest.mark.parametrize("mode", MODES)
async def test_server_everything_over_legacy_sse(tmp_path: Path, everything_sse: str, mode: str) -> None:
    """``transport: sse``: Portico is the 2024-11-05 client of the TypeScript SDK's SSEServerTransport."""
    async with serve_portico(tmp_path, {"everything": {"transport": "sse", "url": everything_sse}}) as portico:
        check(await exercise(portico, mode), mode)
