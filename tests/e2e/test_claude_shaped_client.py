"""A client shaped like Claude.ai's connector: its CIMD client_id and callback, PKCE in a real browser, RFC 8707.

``client_id`` is Claude's Client ID Metadata Document URL; Portico fetches it, or, when claude.ai is unreachable
(as from here), uses its pinned copy. The redirect to ``https://claude.ai/api/mcp/auth_callback`` is observed with
``page.expect_request`` and never followed. The user signs in at the ``oidc-provider`` IdP of the shared deployment
(tests/support/deployment.py). The test also saves the consent page as a documentation screenshot
(``docs/images/``, only when missing or with ``PORTICO_UPDATE_SCREENSHOTS=1``).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from urllib.parse import urlencode

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from playwright.async_api import Browser, Page, Request

from oauth.pkce import s256_challenge
from tests.support.deployment import Deployment
from tests.support.idp import sign_in_at_idp
from tests.support.oauth import query_of
from tests.support.pages import decide_consent
from tests.support.screenshots import save_screenshot

pytestmark = [pytest.mark.anyio, pytest.mark.browser, pytest.mark.node]

CLAUDE_CLIENT_ID = "https://claude.ai/oauth/mcp-oauth-client-metadata"
CLAUDE_CALLBACK = "https://claude.ai/api/mcp/auth_callback"


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
    page: Page, deployment: Deployment
) -> None:
    """Spec-mandated flow (OAuth 2.1 + PKCE, RFC 8707, RFC 9207 ``iss``) with Claude's published client values."""
    verifier, state = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    issuer, resource = deployment.base_url, deployment.url("time")
    async with httpx2.AsyncClient(timeout=30.0) as http:
        scope = await discovered_scope(http, issuer)
        url = authorization_url(issuer, resource, s256_challenge(verifier), state, scope)
        async with page.expect_request(lambda r: r.url.startswith(CLAUDE_CALLBACK)) as callback:
            await page.goto(url)
            assert page.url.startswith(deployment.idp.issuer)  # the only provider: straight to the IdP
            await sign_in_at_idp(page, "alice")
            await page.wait_for_url(lambda u: u.startswith(issuer) and "/login" not in u)
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
    browser: Browser, deployment: Deployment
) -> None:
    """Our own rule (``login.allowed_domains``): the refusal happens before consent, so no redirect carries a code."""
    context = await browser.new_context()
    page = await context.new_page()
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))
    try:
        url = authorization_url(deployment.base_url, deployment.url("time"), s256_challenge("v" * 43), "s", "mcp")
        await page.goto(url)
        await sign_in_at_idp(page, "mallory@other.com")
        await page.wait_for_url(lambda u: u.startswith(deployment.base_url))
        await page.wait_for_load_state()
        body = await page.content()
    finally:
        await context.close()
    assert "domain other.com is not in login.allowed_domains" in body
    assert not [r.url for r in requests if r.url.startswith(CLAUDE_CALLBACK)]
    idp_callback = f"{deployment.base_url}/login/callback/"  # the IdP's code to Portico, not Portico's to a client
    assert not [r.url for r in requests if "code=" in r.url and not r.url.startswith(idp_callback)]
