"""Interop: the official MCP Python SDK OAuth client connects to a running Portico by discovery alone.

401 → protected resource metadata → authorization server metadata → registration (DCR, or a Client ID
Metadata Document served over HTTPS) → authorization in Chromium (sign-in at the ``oidc-provider`` IdP,
Portico's consent page) → token (PKCE) → authenticated MCP requests, in the SDK's ``auto`` (2026-07-28
first) and ``legacy`` modes, to ``mcp-server-time`` over stdio and ``server-everything`` over legacy SSE.
The deployment is tests/support/deployment.py (Portico on PostgreSQL when available).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from playwright.async_api import Page

from tests.support.deployment import Deployment, e2e_deployment
from tests.support.idp import sign_in_at_idp
from tests.support.mcp_oauth import BrowserUserAgent, MemoryTokenStorage, oauth_http_client
from tests.support.processes import free_port

pytestmark = [pytest.mark.anyio, pytest.mark.browser, pytest.mark.node]


def redirect_uri() -> str:
    return f"http://127.0.0.1:{free_port()}/callback"


def agent_for(page: Page, login: str, callback: str | None = None) -> BrowserUserAgent:
    return BrowserUserAgent(page, login, callback or redirect_uri(), sign_in=sign_in_at_idp)


async def current_time(http: Any, url: str, mode: str) -> str:
    async with Client(streamable_http_client(url, http_client=http), mode=mode) as client:
        tools = await client.list_tools()
        assert "get_current_time" in {tool.name for tool in tools.tools}
        result = await client.call_tool("get_current_time", {"timezone": "UTC"})
    assert not result.is_error
    return str(result.content[0].text)  # type: ignore[union-attr]


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_sdk_client_registers_signs_in_at_the_idp_and_calls_a_tool(
    page: Page, deployment: Deployment, mode: str
) -> None:
    url = deployment.url("time")
    agent = agent_for(page, "alice")
    storage = MemoryTokenStorage()
    async with oauth_http_client(url, agent, storage=storage) as http:
        text = await current_time(http, url, mode)
    assert str(datetime.now(UTC).year) in text
    assert len(agent.redirects) == 1
    assert storage.client_info is not None and storage.client_info.client_id
    assert storage.tokens is not None and storage.tokens.refresh_token


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_sdk_client_reaches_server_everything_over_legacy_sse(
    page: Page, deployment: Deployment, mode: str
) -> None:
    """The upstream speaks only 2024-11-05 HTTP+SSE and at most 2025-11-25; the auto client settles on the handshake."""
    url = deployment.url("everything")
    async with (
        oauth_http_client(url, agent_for(page, "erin")) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode) as client,
    ):
        tools = {tool.name for tool in (await client.list_tools()).tools}
        result = await client.call_tool("echo", {"message": "through Portico"})
    assert {"echo", "get-sum"} <= tools
    assert not result.is_error
    assert "through Portico" in str(result.content[0].text)  # type: ignore[union-attr]


async def test_sdk_client_refreshes_an_expired_access_token_without_the_browser(page: Page, tmp_path: Path) -> None:
    with e2e_deployment(tmp_path, oauth={"access_token_lifetime": 1}) as short_lived:
        url = short_lived.url("time")
        agent = agent_for(page, "alice")
        storage = MemoryTokenStorage()
        async with oauth_http_client(url, agent, storage=storage) as http:
            await current_time(http, url, "auto")
            first = storage.tokens
            await anyio.sleep(1.5)  # real time must pass for a real token to expire
            await current_time(http, url, "auto")
    assert first is not None and storage.tokens is not None
    assert storage.tokens.access_token != first.access_token
    assert storage.tokens.refresh_token != first.refresh_token  # rotated
    assert len(agent.redirects) == 1  # the refresh never opened the browser


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_sdk_client_with_a_client_id_metadata_document(page: Page, deployment: Deployment, mode: str) -> None:
    client_id = f"{deployment.documents.base_url}/oauth/client-{mode}.json"
    callback = redirect_uri()
    deployment.documents.documents[f"/oauth/client-{mode}.json"] = {
        "client_id": client_id,
        "client_name": "CIMD interop client",
        "redirect_uris": [callback],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    }
    url = deployment.url("time")
    storage = MemoryTokenStorage()
    async with oauth_http_client(
        url, agent_for(page, "alice", callback), storage=storage, client_metadata_url=client_id
    ) as http:
        text = await current_time(http, url, mode)
    assert str(datetime.now(UTC).year) in text
    assert storage.client_info is not None and storage.client_info.client_id == client_id
