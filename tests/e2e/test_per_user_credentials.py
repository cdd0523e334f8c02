"""The per-user credential flow end to end: an SDK server over Streamable HTTP that needs each user's own token.

In the shared deployment (tests/support/deployment.py) ``notes`` is ``user_token`` with ``format: Bearer {token}``:
Portico sends the user's pasted token, never the client's, as the upstream's ``Authorization`` header. Carol
connects her token on ``/connections`` in Chromium (her browser is already signed in at the IdP from the OAuth
flow; the page is saved as the ``connections`` documentation screenshot); Dave does not. Carol's call reaches
the upstream with Carol's token; Dave's call gets the connect-URL error.
"""

from __future__ import annotations

import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from playwright.async_api import Browser, Page

from proxy.wire.errors import CREDENTIAL_REQUIRED
from tests.support.deployment import Deployment
from tests.support.idp import sign_in_at_idp
from tests.support.mcp_oauth import BrowserUserAgent, MemoryTokenStorage, oauth_http_client
from tests.support.pages import connect_token, connection_status
from tests.support.processes import free_port
from tests.support.screenshots import save_screenshot

pytestmark = [pytest.mark.anyio, pytest.mark.browser, pytest.mark.node]

CAROL_TOKEN = "notes_carol12345678"


def agent_for(page: Page, login: str) -> BrowserUserAgent:
    """Signs in at the IdP, approves, and skips the offer to connect the notes token right away (tested elsewhere)."""
    callback = f"http://127.0.0.1:{free_port()}/callback"
    return BrowserUserAgent(page, login, callback, sign_in=sign_in_at_idp, skip_connect_step=True)


async def test_carol_connects_her_token_and_the_upstream_sees_it_while_dave_gets_the_connect_url(
    page: Page, browser: Browser, deployment: Deployment
) -> None:
    url, connections = deployment.url("notes"), f"{deployment.base_url}/connections?server=notes"
    storage = MemoryTokenStorage()
    async with (
        oauth_http_client(url, agent_for(page, "carol"), storage=storage) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        listed = {tool.name for tool in (await client.list_tools()).tools}
        with pytest.raises(MCPError) as before:
            await client.call_tool("auth_header")
        await page.goto(before.value.error.data["connect_url"])
        await connect_token(page, "Notes", CAROL_TOKEN)
        status = await connection_status(page, "notes")
        await save_screenshot(page, "connections")
        seen = (await client.call_tool("auth_header")).content[0].text  # type: ignore[union-attr]

    dave_page = await browser.new_page()
    try:
        async with (
            oauth_http_client(url, agent_for(dave_page, "dave")) as http,
            Client(streamable_http_client(url, http_client=http)) as client,
        ):
            with pytest.raises(MCPError) as dave:
                await client.call_tool("auth_header")
    finally:
        await dave_page.close()
    log = deployment.portico.stderr_text()

    assert "auth_header" in listed  # tools still list without a credential
    assert before.value.code == CREDENTIAL_REQUIRED and before.value.error.data["connect_url"] == connections
    assert status == "connected"
    assert seen == f"Bearer {CAROL_TOKEN}"
    assert storage.tokens is not None and storage.tokens.access_token not in seen  # never the client's token
    assert dave.value.code == CREDENTIAL_REQUIRED and dave.value.error.data["connect_url"] == connections
    assert CAROL_TOKEN not in log
