"""The official MCP SDK OAuth client (``OAuthClientProvider``) with a real browser as its user agent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import httpx2
from mcp.client.auth import OAuthClientProvider
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken
from playwright.async_api import Page
from pydantic import AnyUrl

from tests.support.pages import SignIn, authorize_in_browser, sign_in_with_dev_form


@dataclass
class MemoryTokenStorage:
    """``mcp.client.auth.TokenStorage`` kept in memory; tests read ``tokens`` and ``client_info``."""

    tokens: OAuthToken | None = None
    client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


@dataclass
class BrowserUserAgent:
    """Completes authorization requests in Chromium: sign-in as ``email`` (the dev form unless ``sign_in``
    says otherwise, e.g. ``sign_in_at_idp``), then Approve.

    The redirect to ``redirect_uri`` is observed, not served: nothing listens there. With
    ``skip_connect_step`` the agent expects the page offering to connect the server's upstream
    account after consent (a server the user has no credential for) and presses Skip.
    """

    page: Page
    email: str
    redirect_uri: str
    sign_in: SignIn = sign_in_with_dev_form
    redirects: list[str] = field(default_factory=list)
    skip_connect_step: bool = False

    async def open(self, authorization_url: str) -> None:
        async with self.page.expect_request(lambda r: r.url.startswith(self.redirect_uri)) as request:
            await authorize_in_browser(self.page, authorization_url, self.email, self.sign_in)
            if self.skip_connect_step:
                await self.page.get_by_role("link", name="Skip").click()
        self.redirects.append((await request.value).url)

    async def callback(self) -> AuthorizationCodeResult:
        query = {k: v[0] for k, v in parse_qs(urlsplit(self.redirects[-1]).query).items()}
        return AuthorizationCodeResult(code=query["code"], state=query.get("state"), iss=query.get("iss"))


@asynccontextmanager
async def oauth_http_client(
    server_url: str,
    agent: BrowserUserAgent,
    *,
    storage: MemoryTokenStorage | None = None,
    client_metadata_url: str | None = None,
) -> AsyncIterator[httpx2.AsyncClient]:
    """An httpx2 client whose requests to ``server_url`` are authorized by the SDK's OAuth flow."""
    metadata = OAuthClientMetadata(
        client_name="MCP SDK interop test",
        redirect_uris=[AnyUrl(agent.redirect_uri)],
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        token_endpoint_auth_method="none",
    )
    provider = OAuthClientProvider(
        server_url=server_url,
        client_metadata=metadata,
        storage=storage or MemoryTokenStorage(),
        redirect_handler=agent.open,
        callback_handler=agent.callback,
        client_metadata_url=client_metadata_url,
    )
    async with httpx2.AsyncClient(auth=provider, timeout=httpx2.Timeout(30.0, read=120.0)) as http:
        yield http
