"""``prompt`` at /authorize with the real IdP and Chromium (OpenID Connect Core 1.0 §3.1.2.1; issue #15 finding 4).

Shared deployment (tests/support/deployment.py): ``portico serve`` signing users in at npm
``oidc-provider``. The client's redirect URI is a real loopback listener (tests/support/recording_http.py),
so the browser lands there and its URL carries the authorization response.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import httpx2
import pytest
from playwright.async_api import Page, expect

from tests.support.deployment import Deployment
from tests.support.idp import sign_in_at_idp
from tests.support.oauth import Pkce, query_of
from tests.support.pages import decide_consent
from tests.support.recording_http import RecordingServer, recording_server

pytestmark = [pytest.mark.anyio, pytest.mark.browser, pytest.mark.node]


@pytest.fixture
def callback() -> Iterator[RecordingServer]:
    with recording_server({"received": True}) as server:
        yield server


class Client:
    """A registered public client with a loopback redirect URI."""

    def __init__(self, deployment: Deployment, callback: RecordingServer) -> None:
        self.deployment = deployment
        self.redirect_uri = f"http://127.0.0.1:{callback.port}/callback"
        body = {
            "client_name": "Prompt client",
            "redirect_uris": [self.redirect_uri],
            "token_endpoint_auth_method": "none",
        }
        response = httpx2.post(f"{deployment.base_url}/register", json=body)
        assert response.status_code == 201, response.text
        self.client_id: str = response.json()["client_id"]

    def authorize_url(self, **extra: str) -> str:
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "code_challenge": Pkce().challenge,
            "code_challenge_method": "S256",
            "state": "prompt-state",
            "scope": "mcp",
            "resource": self.deployment.url("time"),
            **extra,
        }
        return f"{self.deployment.base_url}/authorize?{urlencode(params)}"

    async def redirect_of(self, page: Page, url: str) -> dict[str, str]:
        """Open ``url`` and return the parameters the browser is sent to the client with (no page in between)."""
        await page.goto(url)
        return await self.response(page)

    async def response(self, page: Page) -> dict[str, str]:
        """The authorization response, once the browser has arrived at the redirect URI."""
        await page.wait_for_url(lambda url: url.startswith(self.redirect_uri))
        return query_of(page.url)

    async def sign_in_and_approve(self, page: Page) -> dict[str, str]:
        await page.goto(self.authorize_url())
        await sign_in_at_idp(page, "alice")
        await page.wait_for_url(lambda url: url.startswith(f"{self.deployment.base_url}/authorize?"))
        await decide_consent(page)
        return await self.response(page)


async def test_prompt_none_answers_login_required_then_consent_required_and_never_shows_a_page(
    page: Page, deployment: Deployment, callback: RecordingServer
) -> None:
    """Spec-mandated (OIDC Core §3.1.2.1 none; §3.1.2.6 error codes; RFC 9207 iss)."""
    client = Client(deployment, callback)
    signed_out = await client.redirect_of(page, client.authorize_url(prompt="none"))
    await page.goto(client.authorize_url())
    await sign_in_at_idp(page, "alice")
    await page.wait_for_url(lambda url: url.startswith(f"{deployment.base_url}/authorize?"))
    no_consent = await client.redirect_of(page, client.authorize_url(prompt="none"))
    assert (signed_out["error"], signed_out["state"], signed_out["iss"]) == (
        "login_required",
        "prompt-state",
        deployment.base_url,
    )
    assert (no_consent["error"], no_consent["state"], no_consent["iss"]) == (
        "consent_required",
        "prompt-state",
        deployment.base_url,
    )
    assert "code" not in signed_out and "code" not in no_consent


async def test_prompt_consent_shows_the_consent_page_although_consent_was_remembered(
    page: Page, deployment: Deployment, callback: RecordingServer
) -> None:
    """Spec-mandated (OIDC Core §3.1.2.1 consent); without prompt the remembered consent issues a code."""
    client = Client(deployment, callback)
    first = await client.sign_in_and_approve(page)
    silent = await client.redirect_of(page, client.authorize_url())
    await page.goto(client.authorize_url(prompt="consent"))
    await expect(page.get_by_role("button", name="Approve")).to_be_visible()
    assert "code" in first and "code" in silent


async def test_prompt_login_asks_the_idp_to_sign_in_again_and_then_issues_the_code(
    page: Page, deployment: Deployment, callback: RecordingServer
) -> None:
    """Spec-mandated (OIDC Core §3.1.2.1 login): both Portico's and the IdP's sessions are live, yet the
    user signs in again; Portico asks the IdP with prompt=login and max_age=0 and then continues."""
    client = Client(deployment, callback)
    await client.sign_in_and_approve(page)
    idp_requests: list[str] = []
    page.on("request", lambda request: idp_requests.append(request.url))
    await page.goto(client.authorize_url(prompt="login"))
    await expect(page.locator('input[name="login"]')).to_be_visible()
    await page.locator('input[name="login"]').fill("alice")
    await page.locator('input[name="password"]').fill("any-password")
    await page.locator('button[type="submit"]').click()  # the IdP remembers its consent: no second page
    after = await client.response(page)
    [idp_authorize] = [url for url in idp_requests if url.startswith(f"{deployment.idp.issuer}/auth?")]
    assert (query_of(idp_authorize)["prompt"], query_of(idp_authorize)["max_age"]) == ("login", "0")
    assert "code" in after and after["state"] == "prompt-state"
