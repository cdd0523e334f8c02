"""Per-user tokens reach the upstream only for their owner (our design; docs/credentials.md).

A real Portico with the SDK fixture server behind it (stdio: the token in an environment
variable; Streamable HTTP: in the ``Authorization`` header), driven by the official MCP SDK client.
Tokens are put in the vault directly here; tests/e2e drives the /connections page in Chromium.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.shared.exceptions import MCPError

from app.db import run_db
from proxy.credentials.vault import USER_TOKEN, forget_secret, store_secret
from proxy.wire.errors import CREDENTIAL_REQUIRED
from tests.integration.proxy.gateway.harness import Portico, fixture_http_server, fixture_stdio_server, serve_portico

pytestmark = pytest.mark.anyio
MODES = ["legacy", "auto"]
TOKEN_A = "tok-alice-0123456789"
TOKEN_B = "tok-bob-9876543210"
STDIO = {"gh": fixture_stdio_server(credentials={"type": "user_token", "env": "GH_TOKEN", "format": "token {token}"})}


async def connect(portico: Portico, subject: str, token: str, server: str = "gh") -> None:
    now = portico.runtime.clock.now()
    await run_db(
        portico.runtime.db,
        lambda db: store_secret(
            db, portico.runtime.sealer, subject=subject, server=server, kind=USER_TOKEN, secret=token, now=now
        ),
    )
    await portico.gateway.credential_changed(subject, server)


async def disconnect(portico: Portico, subject: str, server: str = "gh") -> None:
    await run_db(portico.runtime.db, lambda db: forget_secret(db, subject=subject, server=server))
    await portico.gateway.credential_changed(subject, server)


async def seen(portico: Portico, subject: str, tool: str, args: dict[str, Any], mode: str = "auto") -> str:
    async with portico.client("gh", subject=subject, mode=mode) as client:
        result = await client.call_tool(tool, args)
    return str(result.content[0].text)  # type: ignore[union-attr]


@asynccontextmanager
async def http_portico(tmp_path: Path) -> AsyncIterator[Portico]:
    with fixture_http_server() as url:
        token = {"type": "user_token", "format": "Bearer {token}", "pattern": "tok-[a-z]+-[0-9]+"}
        servers = {"gh": {"transport": "streamable-http", "url": url, "credentials": token}}
        async with serve_portico(tmp_path, servers) as portico:
            yield portico


@pytest.mark.parametrize("mode", MODES)
async def test_stdio_user_sees_own_token_and_unconnected_user_gets_connect_url(tmp_path: Path, mode: str) -> None:
    async with serve_portico(tmp_path, STDIO) as portico:
        await connect(portico, "1", TOKEN_A)
        assert await seen(portico, "1", "env_value", {"name": "GH_TOKEN"}, mode) == f"token {TOKEN_A}"
        async with portico.client("gh", subject="2", mode=mode) as client:
            tools = await client.list_tools()
            with pytest.raises(MCPError) as raised:
                await client.call_tool("env_value", {"name": "GH_TOKEN"})
    assert "env_value" in {tool.name for tool in tools.tools}
    expected_url = f"{portico.base_url}/connections?server=gh"
    assert raised.value.code == CREDENTIAL_REQUIRED
    assert raised.value.error.data["connect_url"] == expected_url
    assert expected_url in raised.value.error.message


async def test_a_stdio_args_template_carries_each_users_own_token(tmp_path: Path) -> None:
    """Our design (docs/credentials.md): ``{token}`` in ``args`` is rendered per user's process; '' until connected."""
    server = fixture_stdio_server(credentials={"type": "user_token", "format": "token={token}"})
    server["args"] = [*server["args"], "--api-key", "{token}"]
    async with serve_portico(tmp_path, {"gh": server}) as portico:
        await connect(portico, "1", TOKEN_A)
        await connect(portico, "2", TOKEN_B)
        async with portico.client("gh", subject="1") as alice, portico.client("gh", subject="2") as bob:
            seen_a = (await alice.call_tool("argv", {})).structured_content
            seen_b = (await bob.call_tool("argv", {})).structured_content
        async with portico.client("gh", subject="3") as carol:
            tools = {tool.name for tool in (await carol.list_tools()).tools}  # starts carol's process, no token
    assert seen_a == {"result": ["--api-key", f"token={TOKEN_A}"]}
    assert seen_b == {"result": ["--api-key", f"token={TOKEN_B}"]}
    assert "argv" in tools


@pytest.mark.parametrize("mode", MODES)
async def test_http_user_token_is_sent_as_authorization_for_its_owner_only(tmp_path: Path, mode: str) -> None:
    async with http_portico(tmp_path) as portico:
        await connect(portico, "1", TOKEN_A)
        assert await seen(portico, "1", "auth_header", {}, mode) == f"Bearer {TOKEN_A}"
        async with portico.client("gh", subject="2", mode=mode) as client:
            with pytest.raises(MCPError) as raised:
                await client.call_tool("auth_header", {})
        await connect(portico, "2", TOKEN_B)
        assert await seen(portico, "2", "auth_header", {}, mode) == f"Bearer {TOKEN_B}"
        assert await seen(portico, "1", "auth_header", {}, mode) == f"Bearer {TOKEN_A}"
    assert raised.value.code == CREDENTIAL_REQUIRED


async def test_concurrent_calls_of_two_users_to_one_stdio_server_never_cross(tmp_path: Path) -> None:
    """ContextForge #1078 regression: each call sees its own user's token, also after cache eviction."""
    async with serve_portico(tmp_path, STDIO) as portico:
        await connect(portico, "1", TOKEN_A)
        await connect(portico, "2", TOKEN_B)
        for _round in range(2):
            results: list[tuple[str, str]] = []

            async def call(subject: str, results: list[tuple[str, str]] = results) -> None:
                results.append((subject, await seen(portico, subject, "env_value", {"name": "GH_TOKEN"})))

            with anyio.fail_after(60):
                async with anyio.create_task_group() as group:
                    for index in range(12):
                        group.start_soon(call, "1" if index % 2 else "2")
            expected = {"1": f"token {TOKEN_A}", "2": f"token {TOKEN_B}"}
            assert len(results) == 12
            assert all(value == expected[subject] for subject, value in results)
            # Evict every cached resolution and every process, then go again cold.
            portico.gateway.credentials.forget("1")
            portico.gateway.credentials.forget("2")
            for upstream in portico.gateway.pool.live():
                await portico.gateway.pool.close(upstream)


async def test_changing_a_token_restarts_only_that_users_process(tmp_path: Path) -> None:
    async with serve_portico(tmp_path, STDIO) as portico:
        await connect(portico, "1", TOKEN_A)
        await connect(portico, "2", TOKEN_B)
        async with portico.client("gh", subject="1") as alice, portico.client("gh", subject="2") as bob:
            alice_pid = (await alice.call_tool("whoami", {})).structured_content["pid"]
            bob_pid = (await bob.call_tool("whoami", {})).structured_content["pid"]
            await connect(portico, "1", "tok-alice-new")
            changed = await alice.call_tool("env_value", {"name": "GH_TOKEN"})
            alice_new_pid = (await alice.call_tool("whoami", {})).structured_content["pid"]
            bob_same_pid = (await bob.call_tool("whoami", {})).structured_content["pid"]
            await disconnect(portico, "1")
            with pytest.raises(MCPError) as raised:
                await alice.call_tool("env_value", {"name": "GH_TOKEN"})
    assert changed.content[0].text == "token tok-alice-new"  # type: ignore[union-attr]
    assert alice_new_pid != alice_pid
    assert bob_same_pid == bob_pid
    assert raised.value.code == CREDENTIAL_REQUIRED
