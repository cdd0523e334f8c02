"""Interop: the official MCP Python SDK OAuth client connects to a running Portico by discovery alone.

401 → protected resource metadata → authorization server metadata → registration (DCR, or a Client
ID Metadata Document served by the test) → authorization in Chromium (dev sign-in, Portico's
consent page) → token (PKCE) → authenticated MCP requests to ``mcp-server-time`` over stdio.
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

from tests.support.https_documents import serve_https_documents
from tests.support.mcp_oauth import BrowserUserAgent, MemoryTokenStorage, oauth_http_client
from tests.support.portico import run_portico
from tests.support.processes import free_port

pytestmark = [pytest.mark.anyio, pytest.mark.browser]

LOGIN = {"providers": [{"type": "dev"}], "allowed_domains": ["example.com"]}
SERVERS = {"time": {"transport": "stdio", "command": "mcp-server-time"}}


def redirect_uri() -> str:
    return f"http://127.0.0.1:{free_port()}/callback"


async def current_time(http: Any, url: str, mode: str) -> str:
    async with Client(streamable_http_client(url, http_client=http), mode=mode) as client:
        tools = await client.list_tools()
        assert "get_current_time" in {tool.name for tool in tools.tools}
        result = await client.call_tool("get_current_time", {"timezone": "UTC"})
    assert not result.is_error
    return str(result.content[0].text)  # type: ignore[union-attr]


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_sdk_client_registers_signs_in_and_calls_a_tool(page: Page, tmp_path: Path, mode: str) -> None:
    with run_portico(tmp_path, {"login": LOGIN, "servers": SERVERS}) as portico:
        url = f"{portico.base_url}/time/mcp"
        agent = BrowserUserAgent(page, "alice@example.com", redirect_uri())
        storage = MemoryTokenStorage()
        async with oauth_http_client(url, agent, storage=storage) as http:
            text = await current_time(http, url, mode)
    assert str(datetime.now(UTC).year) in text
    assert len(agent.redirects) == 1
    assert storage.client_info is not None and storage.client_info.client_id
    assert storage.tokens is not None and storage.tokens.refresh_token


async def test_sdk_client_refreshes_an_expired_access_token_without_the_browser(page: Page, tmp_path: Path) -> None:
    config = {"login": LOGIN, "servers": SERVERS, "oauth": {"access_token_lifetime": 1}}
    with run_portico(tmp_path, config) as portico:
        url = f"{portico.base_url}/time/mcp"
        agent = BrowserUserAgent(page, "alice@example.com", redirect_uri())
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


async def test_sdk_client_with_a_client_id_metadata_document(page: Page, tmp_path: Path) -> None:
    with serve_https_documents(tmp_path) as https:
        client_id = f"{https.base_url}/oauth/client.json"
        callback = redirect_uri()
        https.documents["/oauth/client.json"] = {
            "client_id": client_id,
            "client_name": "CIMD interop client",
            "redirect_uris": [callback],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        }
        oauth = {"client_metadata_documents": {"allow_hosts": ["localhost"], "ca_file": str(https.ca_file)}}
        with run_portico(tmp_path, {"login": LOGIN, "servers": SERVERS, "oauth": oauth}) as portico:
            url = f"{portico.base_url}/time/mcp"
            agent = BrowserUserAgent(page, "alice@example.com", callback)
            storage = MemoryTokenStorage()
            async with oauth_http_client(url, agent, storage=storage, client_metadata_url=client_id) as http:
                await current_time(http, url, "auto")
    assert storage.client_info is not None and storage.client_info.client_id == client_id
