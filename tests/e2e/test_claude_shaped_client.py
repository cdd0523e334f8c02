"""A client shaped like Claude.ai's connector: its CIMD client_id and callback, PKCE in a real browser, RFC 8707.

``client_id`` is Claude's Client ID Metadata Document URL; Portico fetches it, or, when claude.ai is unreachable
(as from here), uses its pinned copy. The redirect to ``https://claude.ai/api/mcp/auth_callback`` is observed with
``page.expect_request`` and never followed. The test also saves the sign-in and consent pages as documentation
screenshots (``docs/images/``, only when missing or with ``PORTICO_UPDATE_SCREENSHOTS=1``).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from playwright.async_api import Browser, Page, Request

from oauth.pkce import s256_challenge
from tests.support.oauth import query_of
from tests.support.pages import decide_consent, sign_in_with_dev_form
from tests.support.portico import run_portico
from tests.support.screenshots import save_screenshot

pytestmark = [pytest.mark.anyio, pytest.mark.browser]

CLAUDE_CLIENT_ID = "https://claude.ai/oauth/mcp-oauth-client-metadata"
CLAUDE_CALLBACK = "https://claude.ai/api/mcp/auth_callback"
CONFIG = {
    "login": {"providers": [{"type": "dev"}], "allowed_domains": ["example.com"]},
    "servers": {"time": {"title": "Current time", "transport": "stdio", "command": "mcp-server-time"}},
}


def authorization_url(issuer: str, resource: str, challenge: str, state: str, scope: str) -> str:
    params = {
        "response_type": "code",
        "client_id": CLAUDE_CLIENT_ID,
        "redirect_uri": CLAUDE_CALLBACK,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": state,
        "scope": scope,
        "resource": resource,
    }
    return f"{issuer}/authorize?{urlencode(params)}"


async def discovered_scope(http: httpx2.AsyncClient, issuer: str) -> str:
    """The scope Claude asks for: the protected resource metadata's ``scopes_supported``."""
    metadata = (await http.get(f"{issuer}/.well-known/oauth-protected-resource/time/mcp")).json()
    return " ".join(metadata.get("scopes_supported", []))


async def test_claude_shaped_client_authorizes_exchanges_with_resource_and_calls_a_tool(
    page: Page, tmp_path: Path
) -> None:
    """Spec-mandated flow (OAuth 2.1 + PKCE, RFC 8707, RFC 9207 ``iss``) with Claude's published client values."""
    verifier, state = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    with run_portico(tmp_path, CONFIG) as portico:
        issuer, resource = portico.base_url, f"{portico.base_url}/time/mcp"
        async with httpx2.AsyncClient(timeout=30.0) as http:
            scope = await discovered_scope(http, issuer)
            url = authorization_url(issuer, resource, s256_challenge(verifier), state, scope)
            async with page.expect_request(lambda r: r.url.startswith(CLAUDE_CALLBACK)) as callback:
                await page.goto(url)
                await save_screenshot(page, "login")
                await sign_in_with_dev_form(page, "alice@example.com")
                await page.wait_for_url(lambda u: "/login" not in u)
                await save_screenshot(page, "consent")
                await decide_consent(page)
            redirect = query_of((await callback.value).url)
            token = await http.post(
                f"{issuer}/token",
                data={
                    "grant_type": "authorization_code",
                    "code": redirect["code"],
                    "code_verifier": verifier,
                    "client_id": CLAUDE_CLIENT_ID,
                    "redirect_uri": CLAUDE_CALLBACK,
                    "resource": resource,
                },
            )
        assert (redirect["state"], redirect["iss"]) == (state, issuer)
        assert token.status_code == 200, token.text
        tokens = token.json()
        assert tokens["token_type"].lower() == "bearer"
        headers = {"authorization": f"Bearer {tokens['access_token']}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30.0, read=120.0)) as mcp_http,
            Client(streamable_http_client(resource, http_client=mcp_http)) as client,
        ):
            result = await client.call_tool("get_current_time", {"timezone": "UTC"})
    assert not result.is_error
    assert str(datetime.now(UTC).year) in str(result.content[0].text)  # type: ignore[union-attr]


async def test_user_from_a_domain_not_allowed_is_refused_at_sign_in_and_gets_no_code(
    browser: Browser, tmp_path: Path
) -> None:
    """Our own rule (``login.allowed_domains``): the refusal happens before consent, so no redirect carries a code."""
    context = await browser.new_context()
    page = await context.new_page()
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))
    try:
        with run_portico(tmp_path, CONFIG) as portico:
            url = authorization_url(
                portico.base_url, f"{portico.base_url}/time/mcp", s256_challenge("v" * 43), "s", "mcp"
            )
            await page.goto(url)
            await sign_in_with_dev_form(page, "mallory@other.com")
            await page.wait_for_load_state()
            body = await page.content()
    finally:
        await context.close()
    assert "domain other.com is not in login.allowed_domains" in body
    assert not [r.url for r in requests if r.url.startswith(CLAUDE_CALLBACK)]
    assert not [r.url for r in requests if "code=" in r.url]
