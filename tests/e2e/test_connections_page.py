"""The /connections page in Chromium, end to end: a real Portico process, the SDK OAuth client, a
stdio server that takes each user's token in its environment (our design; docs/credentials.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from playwright.async_api import Browser, Page

from proxy.wire.errors import CREDENTIAL_REQUIRED
from tests.support.mcp_oauth import BrowserUserAgent, oauth_http_client
from tests.support.pages import connect_token, connection_status, disconnect_server, sign_in_with_dev_form
from tests.support.portico import run_portico
from tests.support.processes import free_port

pytestmark = [pytest.mark.anyio, pytest.mark.browser]

FIXTURE_SERVER = Path(__file__).resolve().parents[1] / "fixtures" / "mcp_fixture_server.py"
LOGIN = {"providers": [{"type": "dev"}], "allowed_domains": ["example.com"]}
TOKEN = {"type": "user_token", "env": "GH_TOKEN", "pattern": "ghp_[A-Za-z0-9]{8,}", "help_text": "A GitHub PAT."}
SERVERS = {
    "gh": {
        "transport": "stdio",
        "title": "GitHub",
        "command": sys.executable,
        "args": [str(FIXTURE_SERVER), "stdio"],
        "credentials": TOKEN,
    },
    "time": {"transport": "stdio", "command": "mcp-server-time"},
}
ALICE_TOKEN = "ghp_alice1234567890"


def redirect_uri() -> str:
    return f"http://127.0.0.1:{free_port()}/callback"


async def test_alice_connects_a_token_in_the_browser_and_bob_gets_the_connect_url(
    page: Page, browser: Browser, tmp_path: Path
) -> None:
    with run_portico(tmp_path, {"login": LOGIN, "servers": SERVERS}) as portico:
        url, connections = f"{portico.base_url}/gh/mcp", f"{portico.base_url}/connections?server=gh"
        alice = BrowserUserAgent(page, "alice@example.com", redirect_uri(), skip_connect_step=True)
        async with oauth_http_client(url, alice) as http:
            async with Client(streamable_http_client(url, http_client=http)) as client:
                listed = {tool.name for tool in (await client.list_tools()).tools}
                with pytest.raises(MCPError) as before:
                    await client.call_tool("env_value", {"name": "GH_TOKEN"})
                await page.goto(before.value.error.data["connect_url"])
                statuses = [await connection_status(page, "gh"), await connection_status(page, "time")]
                await connect_token(page, "GitHub", "not-a-pat")
                refused_status = await connection_status(page, "gh")
                refused_text = await page.get_by_role("alert").inner_text()
                await connect_token(page, "GitHub", ALICE_TOKEN)
                connected_status = await connection_status(page, "gh")
                seen = (await client.call_tool("env_value", {"name": "GH_TOKEN"})).content[0].text  # type: ignore[union-attr]
                forged = await page.request.post(
                    f"{portico.base_url}/connections/disconnect", form={"server": "gh", "csrf": "1700000000.forged"}
                )
                still = (await client.call_tool("env_value", {"name": "GH_TOKEN"})).content[0].text  # type: ignore[union-attr]
                await page.goto(f"{portico.base_url}/connections")
                await disconnect_server(page, "GitHub")
                disconnected_status = await connection_status(page, "gh")
                with pytest.raises(MCPError) as after:
                    await client.call_tool("env_value", {"name": "GH_TOKEN"})
                page_html = await page.content()

        bob_page = await browser.new_page()
        try:
            bob_agent = BrowserUserAgent(bob_page, "bob@example.com", redirect_uri(), skip_connect_step=True)
            async with oauth_http_client(url, bob_agent) as http:
                async with Client(streamable_http_client(url, http_client=http)) as client:
                    with pytest.raises(MCPError) as bob:
                        await client.call_tool("env_value", {"name": "GH_TOKEN"})
        finally:
            await bob_page.close()
        log = portico.stderr_text()

    assert "env_value" in listed
    assert before.value.code == CREDENTIAL_REQUIRED and before.value.error.data["connect_url"] == connections
    assert statuses == ["missing", "not_needed"]
    assert refused_status == "missing" and "does not look like a token" in refused_text
    assert connected_status == "connected"
    assert seen == ALICE_TOKEN
    assert forged.status == 403 and still == ALICE_TOKEN
    assert disconnected_status == "missing"
    assert after.value.code == CREDENTIAL_REQUIRED
    assert bob.value.code == CREDENTIAL_REQUIRED and bob.value.error.data["connect_url"] == connections
    assert ALICE_TOKEN not in page_html and ALICE_TOKEN not in log


async def test_connections_page_requires_sign_in(page: Page, tmp_path: Path) -> None:
    with run_portico(tmp_path, {"login": LOGIN, "servers": SERVERS}) as portico:
        await page.goto(f"{portico.base_url}/connections?server=gh")
        on_login = "/login" in page.url
        await sign_in_with_dev_form(page, "carol@example.com")
        await page.wait_for_url(lambda u: "/connections" in u)
        status = await connection_status(page, "gh")
    assert on_login and status == "missing"
