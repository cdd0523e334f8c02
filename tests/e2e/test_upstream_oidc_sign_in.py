"""Signing in through a real OpenID provider: npm ``oidc-provider`` v9, ``portico serve``, headless Chromium.

One IdP and one Portico (provider ``corp``, ``type: oidc``) serve the whole module; every test has a fresh
browser context. The IdP's login name chooses the user (see tests/node/idp/server.js): ``alice`` is
alice@example.com (verified), ``unverified-…`` is unverified, ``eng…`` is in group ``engineering``, and a
login with ``@`` is that address. Rules: ``allowed_domains: [example.com]``, ``allowed_emails:
[bob@partner.example]``, ``allowed_groups: [engineering]``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast
from urllib.parse import urlencode, urlsplit, urlunsplit

import anyio
import httpx2
import pytest
from playwright.async_api import Page, expect

from tests.support.idp import Idp, IdpClient, sign_in_at_idp, start_idp
from tests.support.oauth import Pkce, query_of
from tests.support.pages import decide_consent
from tests.support.portico import run_portico
from tests.support.processes import free_port

if TYPE_CHECKING:
    from playwright._impl._api_structures import SetCookieParam  # the type add_cookies takes

pytestmark = [pytest.mark.anyio, pytest.mark.browser, pytest.mark.node]

PROVIDER = "corp"
CLIENT_ID = "portico"
CLIENT_SECRET = "portico-idp-secret"
PORTICO_CLI = Path(sys.executable).parent / "portico"


@dataclass(frozen=True)
class Deployment:
    base_url: str
    idp: Idp
    config_path: Path

    @property
    def callback_prefix(self) -> str:
        return f"{self.base_url}/login/callback/{PROVIDER}"


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    port = free_port()
    callback = f"http://127.0.0.1:{port}/login/callback/{PROVIDER}"
    with start_idp(clients=[IdpClient(CLIENT_ID, CLIENT_SECRET, [callback])]) as idp:
        provider = {
            "type": "oidc",
            "id": PROVIDER,
            "display_name": "Corp SSO",
            "issuer": idp.issuer,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "scopes": ["openid", "email", "profile", "groups"],
        }
        config = {
            "login": {
                "providers": [provider],
                "allowed_domains": ["example.com"],
                "allowed_emails": ["bob@partner.example"],
                "allowed_groups": ["engineering"],
            },
            "servers": {"time": {"title": "Current time", "transport": "stdio", "command": "mcp-server-time"}},
        }
        directory = tmp_path_factory.mktemp("portico-oidc")
        with run_portico(directory, config, port=port) as portico:
            yield Deployment(portico.base_url, idp, directory / "portico.yaml")


def register_client(deployment: Deployment, redirect_uri: str) -> str:
    body = {"client_name": "E2E client", "redirect_uris": [redirect_uri], "token_endpoint_auth_method": "none"}
    response = httpx2.post(f"{deployment.base_url}/register", json=body)
    assert response.status_code == 201, response.text
    client_id: str = response.json()["client_id"]
    return client_id


def authorize_url(deployment: Deployment, client_id: str, redirect_uri: str, pkce: Pkce) -> str:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
        "state": "client-state",
        "scope": "mcp",
        "resource": f"{deployment.base_url}/time/mcp",
    }
    return f"{deployment.base_url}/authorize?{urlencode(params)}"


async def sign_in(page: Page, deployment: Deployment, login: str, return_to: str = "/logout") -> None:
    """From Portico's /login through the IdP's login and consent pages, back to Portico."""
    await page.goto(f"{deployment.base_url}/login?{urlencode({'return_to': return_to})}")
    assert page.url.startswith(deployment.idp.issuer)
    await sign_in_at_idp(page, login)
    await page.wait_for_url(lambda url: url.startswith(deployment.base_url))
    await page.wait_for_load_state()


async def idp_authorization_url(page: Page, deployment: Deployment) -> str:
    """Start a sign-in as the browser would, but stop at the redirect to the IdP (the flow cookie is kept)."""
    response = await page.request.get(f"{deployment.base_url}/login/{PROVIDER}?return_to=/logout", max_redirects=0)
    assert response.status == 303
    location = response.headers["location"]
    assert location.startswith(deployment.idp.issuer)
    return location


def with_param(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    params = query_of(url)
    assert name in params
    params[name] = value
    return urlunsplit(parts._replace(query=urlencode(params)))


async def login_cookies(page: Page) -> list[str]:
    return [cookie["name"] for cookie in await page.context.cookies() if cookie["name"] == "portico_login"]


async def assert_page(page: Page, heading: str, *texts: str) -> None:
    await expect(page.get_by_role("heading", name=heading)).to_be_visible()
    alert = await page.get_by_role("alert").inner_text()
    for text in texts:
        assert text in alert, alert


async def test_an_allowed_domain_signs_in_at_the_idp_and_reaches_portico_consent(
    page: Page, deployment: Deployment
) -> None:
    """Own behaviour on spec flows: /authorize → /login → IdP (code + PKCE + nonce) → callback → consent."""
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    client_id = register_client(deployment, redirect_uri)
    await page.goto(authorize_url(deployment, client_id, redirect_uri, Pkce()))
    assert page.url.startswith(deployment.idp.issuer)
    await sign_in_at_idp(page, "alice")
    await page.wait_for_url(lambda url: url.startswith(f"{deployment.base_url}/authorize?"))
    await expect(
        page.get_by_role("heading", name="Allow E2E client (not verified) to use Current time?")
    ).to_be_visible()
    await expect(page.get_by_role("definition").filter(has_text="alice@example.com")).to_be_visible()
    cookies = {cookie["name"]: cookie for cookie in await page.context.cookies()}
    assert (cookies["portico_login"]["httpOnly"], cookies["portico_login"]["sameSite"]) == (True, "Lax")
    assert not [name for name in cookies if name.startswith("portico_idp_")]


async def test_another_domain_is_refused_naming_the_rule(page: Page, deployment: Deployment) -> None:
    await sign_in(page, deployment, "mallory@other.example")
    await assert_page(page, "Access denied", "domain other.example is not in login.allowed_domains")
    assert await login_cookies(page) == []


async def test_an_unverified_email_is_refused(page: Page, deployment: Deployment) -> None:
    """Own rule from the issue: email_verified must be true."""
    await sign_in(page, deployment, "unverified-alice")
    await assert_page(page, "Access denied", "has not verified this email")
    assert await login_cookies(page) == []


async def test_allowed_emails_admits_the_listed_address_only(page: Page, deployment: Deployment) -> None:
    await sign_in(page, deployment, "bob@partner.example")
    await expect(page.locator(".signed-in-email")).to_have_text("bob@partner.example")
    await page.context.clear_cookies()
    await sign_in(page, deployment, "carol@partner.example")
    await assert_page(page, "Access denied", "the address is not in login.allowed_emails")


async def test_allowed_groups_admits_a_member_of_the_group_only(page: Page, deployment: Deployment) -> None:
    await sign_in(page, deployment, "eng-carol@contractor.example")
    await expect(page.locator(".signed-in-email")).to_have_text("eng-carol@contractor.example")
    await page.context.clear_cookies()
    await sign_in(page, deployment, "carol@contractor.example")
    await assert_page(page, "Access denied", "no group of this user is in login.allowed_groups")


async def test_a_tampered_state_is_refused(page: Page, deployment: Deployment) -> None:
    """Spec-mandated (RFC 6749 §10.12): the callback's state must be the one bound to this browser."""
    url = await idp_authorization_url(page, deployment)
    await page.goto(with_param(url, "state", "attacker-chosen-state"))
    await sign_in_at_idp(page, "alice")
    await page.wait_for_url(lambda url: url.startswith(deployment.callback_prefix))
    await assert_page(page, "Sign-in expired", "was not started in this browser")
    assert await login_cookies(page) == []


async def test_a_tampered_nonce_is_refused(page: Page, deployment: Deployment) -> None:
    """Spec-mandated (OpenID Connect Core §3.1.3.7 step 11): the ID token's nonce must be the one sent."""
    url = await idp_authorization_url(page, deployment)
    await page.goto(with_param(url, "nonce", "attacker-chosen-nonce"))
    await sign_in_at_idp(page, "alice")
    await page.wait_for_url(lambda url: url.startswith(deployment.callback_prefix))
    await assert_page(page, "Sign-in failed", "nonce does not match")
    assert await login_cookies(page) == []


async def test_a_replayed_callback_is_refused_even_with_its_flow_cookie(page: Page, deployment: Deployment) -> None:
    """Own choice beyond RFC 6749 §10.12: a state is single-use (spent in used_states)."""
    url = await idp_authorization_url(page, deployment)
    [flow_cookie] = [c for c in await page.context.cookies() if c["name"].startswith("portico_idp_")]
    await page.goto(url)
    async with page.expect_request(lambda request: request.url.startswith(deployment.callback_prefix)) as callback:
        await sign_in_at_idp(page, "alice")
    await page.wait_for_url(f"{deployment.base_url}/logout")
    await page.context.clear_cookies()
    await page.context.add_cookies([cast("SetCookieParam", flow_cookie)])
    await page.goto((await callback.value).url)
    await assert_page(page, "Sign-in expired", "already completed")
    assert await login_cookies(page) == []


async def test_an_idp_error_is_shown_with_its_code(page: Page, deployment: Deployment) -> None:
    """Own behaviour on RFC 6749 §4.1.2.1: the IdP's error code reaches the user."""
    await page.goto(f"{deployment.base_url}/login?return_to=/logout")
    await page.get_by_role("link", name="[ Cancel ]").click()
    await page.wait_for_url(lambda url: url.startswith(deployment.callback_prefix))
    await assert_page(page, "Sign-in failed", "Corp SSO returned the error access_denied", "End-User aborted")
    await expect(page.get_by_role("link", name="Try again")).to_have_attribute("href", "/login?return_to=%2Flogout")
    assert await login_cookies(page) == []


async def test_a_disabled_users_refresh_token_stops_working(page: Page, deployment: Deployment) -> None:
    """Issue requirement: `portico users disable` ends the user's refresh tokens (invalid_grant)."""
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    client_id = register_client(deployment, redirect_uri)
    pkce = Pkce()
    await page.goto(authorize_url(deployment, client_id, redirect_uri, pkce))
    await sign_in_at_idp(page, "dora")
    await page.wait_for_url(lambda url: url.startswith(f"{deployment.base_url}/authorize?"))
    async with page.expect_request(lambda request: request.url.startswith(redirect_uri)) as redirect:
        await decide_consent(page)
    code = query_of((await redirect.value).url)["code"]
    token_url = f"{deployment.base_url}/token"
    form = {"grant_type": "authorization_code", "code": code, "code_verifier": pkce.verifier}
    form |= {"client_id": client_id, "redirect_uri": redirect_uri}
    tokens = httpx2.post(token_url, data=form)
    assert tokens.status_code == 200, tokens.text
    refresh = {"grant_type": "refresh_token", "client_id": client_id}
    refreshed = httpx2.post(token_url, data={**refresh, "refresh_token": tokens.json()["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text

    disable = [str(PORTICO_CLI), "users", "disable", "dora@example.com", "--config", str(deployment.config_path)]
    with anyio.fail_after(60):
        result = await anyio.run_process(disable, check=False)
    assert result.returncode == 0, result.stderr.decode()

    after = httpx2.post(token_url, data={**refresh, "refresh_token": refreshed.json()["refresh_token"]})
    assert (after.status_code, after.json()["error"]) == (400, "invalid_grant")
