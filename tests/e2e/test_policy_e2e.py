"""Access policy end to end (issue #16, "Done when"): a user signed in through a real IdP sees a filtered
``tools/list`` and is refused the hidden tool by a real MCP client; an engineer sees and may call it.

Portico runs as a real process (``portico serve``) with a ``policy`` whose engineering rule uses the
IdP's ``groups`` claim (npm ``oidc-provider``: a login starting with ``eng`` is in ``engineering``);
the upstream is the SDK fixture server over Streamable HTTP, whose ``delete_repo`` tool appends to
a file: the refused call provably never arrived. The MCP SDK client runs its OAuth flow
(discovery, registration, PKCE) with Chromium as the user agent.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult
from playwright.async_api import Browser

from proxy.wire.errors import POLICY_DENIED
from tests.support.deployment import fixture_server_over_http
from tests.support.idp import IdpClient, sign_in_at_idp, start_idp
from tests.support.mcp_oauth import BrowserUserAgent, oauth_http_client
from tests.support.portico import run_portico
from tests.support.processes import free_port

pytestmark = [pytest.mark.anyio, pytest.mark.browser, pytest.mark.node]

PROVIDER = "corp"
POLICY = {
    "default": "allow",
    "rules": [
        {"name": "engineering-writes", "groups": ["engineering"], "effect": "allow", "servers": {"repo": {}}},
        {"name": "no-destruction", "everyone": True, "effect": "deny", "servers": {"repo": {"tools": ["delete_*"]}}},
    ],
}


@dataclass(frozen=True)
class PolicyDeployment:
    base_url: str

    @property
    def url(self) -> str:
        return f"{self.base_url}/repo/mcp"


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PolicyDeployment]:
    port = free_port()
    callback = f"http://127.0.0.1:{port}/login/callback/{PROVIDER}"
    with (
        start_idp(clients=[IdpClient("portico", "portico-policy-secret", [callback])]) as idp,
        fixture_server_over_http() as repo,
    ):
        provider = {
            "type": "oidc",
            "id": PROVIDER,
            "display_name": "Corp SSO",
            "issuer": idp.issuer,
            "client_id": "portico",
            "client_secret": "portico-policy-secret",
            "scopes": ["openid", "email", "profile", "groups"],
        }
        config = {
            "login": {"providers": [provider], "allowed_domains": ["example.com"]},
            "servers": {"repo": {"title": "Repositories", "transport": "streamable-http", "url": repo}},
            "policy": POLICY,
        }
        with run_portico(tmp_path_factory.mktemp("portico-policy"), config, port=port) as portico:
            yield PolicyDeployment(portico.base_url)


async def tools_and_delete(
    browser: Browser, deployment: PolicyDeployment, login: str, marker: Path
) -> tuple[set[str], CallToolResult | MCPError]:
    """Sign ``login`` in through the SDK's OAuth flow; list the tools and try ``delete_repo``."""
    page = await browser.new_page()
    agent = BrowserUserAgent(page, login, f"http://127.0.0.1:{free_port()}/callback", sign_in=sign_in_at_idp)
    try:
        async with (
            oauth_http_client(deployment.url, agent) as http,
            Client(streamable_http_client(deployment.url, http_client=http)) as client,
        ):
            listed = {tool.name for tool in (await client.list_tools()).tools}
            try:
                called: CallToolResult | MCPError = await client.call_tool("delete_repo", {"marker": str(marker)})
            except MCPError as error:
                called = error
            echoed = await client.call_tool("echo", {"text": "still here"})
    finally:
        await page.close()
    assert echoed.content[0].text == "still here"  # type: ignore[union-attr]
    return listed, called


async def test_a_user_sees_a_filtered_tools_list_and_is_refused_the_hidden_tool_while_an_engineer_is_not(
    browser: Browser, deployment: PolicyDeployment, tmp_path: Path
) -> None:
    marker = tmp_path / "delete_repo.calls"
    frank_tools, frank_call = await tools_and_delete(browser, deployment, "frank", marker)
    frank_saw_the_call = marker.exists()
    erin_tools, erin_call = await tools_and_delete(browser, deployment, "eng-erin", marker)

    assert "echo" in frank_tools and "delete_repo" not in frank_tools
    assert isinstance(frank_call, MCPError) and frank_call.code == POLICY_DENIED
    assert "delete_repo" in frank_call.error.message and "not allowed by policy" in frank_call.error.message
    assert "no-destruction" not in frank_call.error.message  # never the rule
    assert not frank_saw_the_call
    assert "delete_repo" in erin_tools
    assert not isinstance(erin_call, MCPError)
    assert marker.read_text() == "delete_repo\n"
