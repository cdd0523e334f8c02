"""Lists filtered and denied targets refused through real upstreams on every transport, for every client
transport and era (issue #16: "integration tests through real upstreams on every transport").

Upstreams: stdio, Streamable HTTP (both eras), legacy HTTP+SSE (handshake only: a 2026-07-28 client is
bridged) and a 2026-07-28-only Streamable HTTP server (a handshake-era client is bridged). Clients:
the MCP SDK client in the handshake era and in 2026-07-28, and over legacy HTTP+SSE. The upstream
records every ``delete_repo`` call in a file, so "refused" also means "never arrived".
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import PromptReference

from proxy.wire.errors import POLICY_DENIED
from tests.integration.proxy.gateway.harness import serve_portico
from tests.integration.proxy.policy.paths import (
    POLICY,
    UPSTREAMS,
    VISIBLE_PROMPTS,
    VISIBLE_RESOURCES,
    VISIBLE_TEMPLATES,
    VISIBLE_TOOLS,
    ClientKind,
    connect,
    upstream_servers,
)
from tests.support.users import add_user

pytestmark = pytest.mark.anyio


async def assert_denied(call: object) -> None:
    with pytest.raises(MCPError) as refused:
        await call  # type: ignore[misc]
    assert refused.value.code == POLICY_DENIED, refused.value


async def assert_policy_holds(client: Client, marker: Path) -> None:
    """What a user without the ``admins`` group sees and may do on any server."""
    assert {tool.name for tool in (await client.list_tools()).tools} == VISIBLE_TOOLS
    assert {str(r.uri) for r in (await client.list_resources()).resources} == VISIBLE_RESOURCES
    assert {t.uri_template for t in (await client.list_resource_templates()).resource_templates} == VISIBLE_TEMPLATES
    assert {p.name for p in (await client.list_prompts()).prompts} == VISIBLE_PROMPTS
    await assert_denied(client.call_tool("delete_repo", {"marker": str(marker)}))
    await assert_denied(client.read_resource("fixture://secret"))
    await assert_denied(client.get_prompt("leak", {"topic": "x"}))
    await assert_denied(
        client.complete(PromptReference(type="ref/prompt", name="leak"), {"name": "topic", "value": ""})
    )
    echoed = await client.call_tool("echo", {"text": "allowed"})
    assert echoed.content[0].text == "allowed"  # type: ignore[union-attr]
    assert "the secret" not in str(await client.read_resource("fixture://greeting"))


@pytest.mark.parametrize("kind", ["handshake", "modern", "legacy_sse"])
async def test_lists_are_filtered_and_denied_targets_refused_on_every_upstream(
    tmp_path: Path, kind: ClientKind
) -> None:
    marker = tmp_path / "delete_repo.calls"
    with upstream_servers() as servers:
        async with serve_portico(tmp_path, servers, policy=POLICY) as portico:
            for upstream in UPSTREAMS:
                async with connect(portico, upstream, kind) as client:
                    await assert_policy_holds(client, marker)
            assert not marker.exists(), "a denied call reached an upstream"
            admin = await add_user(portico.runtime, "root@example.com", ["admins"])
            for upstream in UPSTREAMS:  # the same call, allowed, does arrive: the record works on every upstream
                async with connect(portico, upstream, kind, subject=admin) as client:
                    assert "delete_repo" in {tool.name for tool in (await client.list_tools()).tools}
                    await client.call_tool("delete_repo", {"marker": str(marker)})
    assert marker.read_text().splitlines() == ["delete_repo"] * len(UPSTREAMS)
