"""Each client session sees what its own declared capabilities give it (issue #14, finding 6; ADR 0007).

Real peers: ``@modelcontextprotocol/server-everything`` over stdio and over legacy HTTP+SSE, which
registers its elicitation and sampling tools only for a client that declared ``elicitation`` /
``sampling`` at ``initialize``; two MCP SDK ``Client`` sessions of one user through a real Portico.
Before ADR 0007 both sessions shared one upstream session initialized with the first session's
capabilities, so the second (declaring both) never saw those tools.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from mcp import Client
from mcp.client.context import ClientRequestContext

from tests.integration.proxy.gateway.harness import Portico, serve_portico
from tests.support.everything import everything_stdio_config, run_everything

pytestmark = [pytest.mark.anyio, pytest.mark.node]
ASKING_TOOLS = {"trigger-elicitation-request", "trigger-sampling-request"}


async def answer_sample(
    context: ClientRequestContext, params: types.CreateMessageRequestParams
) -> types.CreateMessageResult:
    return types.CreateMessageResult(
        role="assistant", content=types.TextContent(type="text", text="sampled!"), model="test-model"
    )


async def answer_elicitation(context: ClientRequestContext, params: types.ElicitRequestParams) -> types.ElicitResult:
    return types.ElicitResult(action="accept", content={"name": "Ada", "check": True})


@pytest.fixture(scope="module")
def everything_sse() -> Iterator[str]:
    with run_everything("sse", "/sse") as url:
        yield url


def server_config(transport: str, request: pytest.FixtureRequest) -> dict[str, Any]:
    if transport == "stdio":
        return everything_stdio_config()
    return {"transport": "sse", "url": request.getfixturevalue("everything_sse")}


async def tool_names(client: Client) -> set[str]:
    return {tool.name for tool in (await client.list_tools()).tools}


async def two_sessions(portico: Portico, mode: str) -> tuple[set[str], set[str], set[str], str]:
    """A plain session, then (while it is open) one declaring elicitation and sampling; same user."""
    async with portico.client("everything", mode=mode) as plain:
        plain_before = await tool_names(plain)
        async with portico.client(
            "everything", mode=mode, elicitation_callback=answer_elicitation, sampling_callback=answer_sample
        ) as asking:
            asking_tools = await tool_names(asking)
            sampled = await asking.call_tool("trigger-sampling-request", {"prompt": "hi", "maxTokens": 10})
            plain_after = await tool_names(plain)
    block = sampled.content[0]
    assert isinstance(block, types.TextContent)
    return plain_before, asking_tools, plain_after, block.text


@pytest.mark.parametrize("transport", ["stdio", "sse"])
@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_a_second_session_declaring_elicitation_and_sampling_sees_their_tools_and_the_first_does_not(
    tmp_path: Path, transport: str, mode: str, request: pytest.FixtureRequest
) -> None:
    """Finding 6: handshake sessions (``legacy``) and bridged 2026-07-28 requests alike."""
    async with serve_portico(tmp_path, {"everything": server_config(transport, request)}) as portico:
        plain_before, asking_tools, plain_after, sampled = await two_sessions(portico, mode)
    assert "echo" in plain_before and "echo" in asking_tools
    assert ASKING_TOOLS <= asking_tools
    assert not ASKING_TOOLS & plain_before
    assert not ASKING_TOOLS & plain_after
    assert "sampled!" in sampled


async def test_sessions_declaring_the_same_capabilities_share_one_upstream_process(tmp_path: Path) -> None:
    """ADR 0007's cost bound: a new upstream session only for a new capability set, not per client session."""
    async with serve_portico(tmp_path, {"everything": everything_stdio_config()}) as portico:
        async with (
            portico.client("everything", mode="legacy") as first,
            portico.client("everything", mode="legacy") as second,
        ):
            await tool_names(first)
            await tool_names(second)
            assert len(portico.gateway.pool.live()) == 1
