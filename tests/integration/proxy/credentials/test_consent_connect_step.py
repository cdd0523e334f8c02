"""After consent, a server needing an account the user lacks offers to connect it, skippably
(our design; proxy/connections/consent_step.py). An MCP SDK OAuth client, Chromium, oidc-provider upstream AS."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from playwright.async_api import Page

from proxy.wire.errors import CREDENTIAL_REQUIRED
from tests.integration.proxy.credentials.oauth_harness import oauth_setup
from tests.support.idp import sign_in_at_idp
from tests.support.mcp_oauth import BrowserUserAgent, oauth_http_client
from tests.support.pages import decide_consent, sign_in_with_dev_form
from tests.support.processes import free_port

pytestmark = [pytest.mark.anyio, pytest.mark.browser]


@dataclass
class ConnectingUserAgent(BrowserUserAgent):
    """Signs in, approves, then on the connect step either connects at the IdP or presses Skip."""

    connect: bool = True
    headings: list[str] = field(default_factory=list)

    async def open(self, authorization_url: str) -> None:
        async with self.page.expect_request(lambda r: r.url.startswith(self.redirect_uri)) as request:
            await self.page.goto(authorization_url)
            await sign_in_with_dev_form(self.page, self.email)
            await self.page.wait_for_url(lambda url: "/login" not in url)
            await decide_consent(self.page)
            heading = self.page.get_by_role("heading", level=1)
            await heading.filter(has_text="Connect your").wait_for()
            self.headings.append(await heading.inner_text())
            if self.connect:
                await self.page.get_by_role("button", name="Connect Upstream").click()
                await sign_in_at_idp(self.page, "alice")
            else:
                await self.page.get_by_role("link", name="Skip").click()
        self.redirects.append((await request.value).url)


async def call_auth_header(url: str, agent: ConnectingUserAgent) -> str | MCPError:
    """What the upstream saw, or the error Portico answered the call with."""
    async with oauth_http_client(url, agent) as http, Client(streamable_http_client(url, http_client=http)) as client:
        try:
            return str((await client.call_tool("auth_header", {})).content[0].text)  # type: ignore[union-attr]
        except MCPError as error:
            return error


def redirect_uri() -> str:
    return f"http://127.0.0.1:{free_port()}/callback"


async def test_the_user_connects_the_upstream_after_consent_and_the_client_then_gets_its_code(
    tmp_path: Path, page: Page
) -> None:
    async with oauth_setup(tmp_path) as setup:
        agent = ConnectingUserAgent(page, "alice@example.com", redirect_uri(), connect=True)
        seen = await call_auth_header(setup.portico.url("up"), agent)
        (subject,) = await setup.subject_of()
        grant = await setup.grant(subject)
    assert agent.headings == ["Connect your Upstream account?"]
    assert "code=" in agent.redirects[-1]
    assert grant is not None and seen == f"Bearer {grant.access_token}"


async def test_skip_returns_to_the_client_without_a_connection(tmp_path: Path, page: Page) -> None:
    async with oauth_setup(tmp_path) as setup:
        agent = ConnectingUserAgent(page, "alice@example.com", redirect_uri(), connect=False)
        answer = await call_auth_header(setup.portico.url("up"), agent)
        stored = await setup.subject_of()
    assert agent.headings == ["Connect your Upstream account?"]
    assert "code=" in agent.redirects[-1]
    assert isinstance(answer, MCPError) and answer.code == CREDENTIAL_REQUIRED
    assert stored == []
