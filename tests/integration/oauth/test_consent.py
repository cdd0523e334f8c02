"""The consent page: content, CSRF, framing, cookies, deny, memory, revocation, single use."""

from __future__ import annotations

import httpx2
import pytest
from fastapi import FastAPI

from app.main import create_app
from app.runtime import Runtime
from oauth.login.api import SignedInUser, current_user
from tests.integration.oauth.conftest import RuntimeFactory
from tests.support.clock import FakeClock
from tests.support.oauth import GITHUB, ISSUER, Browser, OAuthFlow, Pkce, hidden_input, query_of

pytestmark = pytest.mark.anyio


def assert_refused_without_code(response: httpx2.Response, status: int = 403) -> None:
    assert response.status_code == status
    assert "location" not in response.headers


async def test_consent_page_shows_client_redirect_host_and_server_escaped(flow: OAuthFlow) -> None:
    """Spec-mandated (MCP best practices §Consent UI; MCP §Localhost Redirect URI Risks: show the redirect host)."""
    client = await flow.register(client_name="<script>alert(1)</script>", client_uri="https://app.example.com/about")
    page = await flow.authorize(client["client_id"], Pkce())
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert '<p class="host redirect-host">claude.ai</p>' in page.text
    assert "https://claude.ai/api/mcp/auth_callback" in page.text
    assert "Not verified" in page.text
    assert "https://app.example.com/about" in page.text
    assert "GitHub" in page.text and GITHUB in page.text
    assert "localhost-warning" not in page.text
    assert page.text.count('type="submit"') == 2
    assert 'value="approve"' in page.text and 'value="deny"' in page.text
    assert page.headers["cache-control"] == "no-store"


async def test_consent_page_warns_when_the_client_only_has_localhost_redirects(flow: OAuthFlow) -> None:
    """Spec-mandated SHOULD (MCP 2025-11-25 §Localhost Redirect URI Risks)."""
    client = await flow.register(redirect_uris=["http://127.0.0.1/callback", "http://localhost/callback"])
    page = await flow.authorize(client["client_id"], Pkce(), redirect_uri="http://localhost:33418/callback")
    assert "localhost-warning" in page.text
    assert '<p class="host redirect-host">localhost</p>' in page.text


async def test_consent_page_may_not_be_framed(flow: OAuthFlow) -> None:
    """Spec-mandated (MCP best practices: frame-ancestors / X-Frame-Options DENY)."""
    client = await flow.register()
    page = await flow.authorize(client["client_id"], Pkce())
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


async def test_approving_issues_a_code_with_state_and_iss(flow: OAuthFlow) -> None:
    client = await flow.register()
    response = await flow.answer(await flow.authorize(client["client_id"], Pkce()))
    assert response.status_code == 302
    assert response.headers["location"].startswith("https://claude.ai/api/mcp/auth_callback?code=")
    params = query_of(response.headers["location"])
    assert (params["state"], params["iss"]) == ("xyz-state", ISSUER)


async def test_denying_redirects_access_denied_with_state_and_iss(flow: OAuthFlow) -> None:
    """Spec-mandated (RFC 6749 §4.1.2.1; RFC 9207)."""
    client = await flow.register()
    response = await flow.answer(await flow.authorize(client["client_id"], Pkce()), decision="deny")
    assert response.status_code == 302
    params = query_of(response.headers["location"])
    assert (params["error"], params["state"], params["iss"]) == ("access_denied", "xyz-state", ISSUER)
    assert "code" not in params


@pytest.mark.parametrize("csrf", ["", "0.deadbeef", None])
async def test_missing_or_wrong_csrf_is_refused_and_issues_no_code(flow: OAuthFlow, csrf: str | None) -> None:
    """Spec-mandated (MCP best practices: CSRF protection on the consent page)."""
    client = await flow.register()
    page = await flow.authorize(client["client_id"], Pkce())
    form = {"state": hidden_input(page.text, "state"), "decision": "approve"}
    if csrf is not None:
        form["csrf"] = csrf
    assert_refused_without_code(await flow.http.post("/consent", data=form))
    assert (await flow.authorize(client["client_id"], Pkce())).status_code == 200  # nothing remembered


async def test_csrf_token_of_another_login_session_is_refused(flow: OAuthFlow, browser: Browser) -> None:
    client = await flow.register()
    page = await flow.authorize(client["client_id"], Pkce())
    assert browser.user is not None
    browser.user = SignedInUser(browser.user.subject, browser.user.email, None, login_session_id="another-session")
    assert_refused_without_code(await flow.answer(page))


async def test_a_consent_form_shown_to_another_user_is_refused(flow: OAuthFlow, browser: Browser) -> None:
    client = await flow.register()
    page = await flow.authorize(client["client_id"], Pkce())
    assert browser.user is not None
    browser.user = SignedInUser("user-mallory", "m@example.com", None, browser.user.login_session_id)
    assert_refused_without_code(await flow.answer(page))


async def test_consent_state_cannot_be_replayed_after_approval(flow: OAuthFlow) -> None:
    """Our choice (issue rule): state values are single-use."""
    client = await flow.register()
    page = await flow.authorize(client["client_id"], Pkce())
    form = {"csrf": hidden_input(page.text, "csrf"), "state": hidden_input(page.text, "state"), "decision": "approve"}
    cookies = dict(flow.http.cookies)
    first = await flow.http.post("/consent", data=form)
    flow.http.cookies.update(cookies)  # an attacker replaying the whole request, cookie included
    second = await flow.http.post("/consent", data=form)
    assert first.status_code == 302
    assert_refused_without_code(second, status=400)


async def test_consent_state_expires_after_ten_minutes(flow: OAuthFlow, clock: FakeClock) -> None:
    client = await flow.register()
    page = await flow.authorize(client["client_id"], Pkce())
    clock.advance(601)
    assert_refused_without_code(await flow.answer(page))


async def test_a_tampered_state_is_refused(flow: OAuthFlow) -> None:
    client = await flow.register()
    page = await flow.authorize(client["client_id"], Pkce())
    assert_refused_without_code(await flow.answer(page, state=hidden_input(page.text, "state") + "x"))


async def test_the_consent_form_needs_the_browser_that_was_shown_it(flow: OAuthFlow) -> None:
    """Our choice: the pending request is bound to the browser by a signed cookie."""
    client = await flow.register()
    page = await flow.authorize(client["client_id"], Pkce())
    flow.http.cookies.clear()
    assert_refused_without_code(await flow.answer(page))


async def test_signed_out_answer_is_refused(flow: OAuthFlow, browser: Browser) -> None:
    client = await flow.register()
    page = await flow.authorize(client["client_id"], Pkce())
    browser.user = None
    assert_refused_without_code(await flow.answer(page))


async def test_consent_is_remembered_per_user_client_and_resource(flow: OAuthFlow, browser: Browser) -> None:
    """Our choice (MCP best practices: per-user, per-client approval registry)."""
    client = await flow.register()
    await flow.answer(await flow.authorize(client["client_id"], Pkce()))
    again = await flow.authorize(client["client_id"], Pkce())
    other_server = await flow.authorize(client["client_id"], Pkce(), resource=f"{ISSUER}/jira/mcp")
    other_client = await flow.authorize((await flow.register())["client_id"], Pkce())
    browser.user = SignedInUser("user-bob", "bob@example.com", None, "ls-bob")
    other_user = await flow.authorize(client["client_id"], Pkce())
    assert again.status_code == 302 and "code" in query_of(again.headers["location"])
    assert query_of(again.headers["location"])["iss"] == ISSUER
    assert (other_server.status_code, other_client.status_code, other_user.status_code) == (200, 200, 200)


async def test_revoked_consent_shows_the_page_again_and_kills_the_clients_tokens(flow: OAuthFlow) -> None:
    client = await flow.register(client_name="Claude")
    tokens = await flow.tokens(client["client_id"])
    listing = await flow.http.get("/consent")
    assert listing.status_code == 200 and "Claude" in listing.text
    revoked = await flow.http.post(
        "/consent/revoke", data={"csrf": hidden_input(listing.text, "csrf"), "client_id": client["client_id"]}
    )
    assert revoked.status_code == 303
    assert (await flow.authorize(client["client_id"], Pkce())).status_code == 200
    assert (await flow.refresh(client["client_id"], tokens["refresh_token"])).json()["error"] == "invalid_grant"
    assert (await flow.introspect(client["client_id"], tokens["access_token"]))["active"] is False


async def test_consent_revocation_needs_a_valid_csrf_token(flow: OAuthFlow) -> None:
    client = await flow.register()
    await flow.tokens(client["client_id"])
    response = await flow.http.post("/consent/revoke", data={"csrf": "1.bad", "client_id": client["client_id"]})
    assert response.status_code == 403
    assert (await flow.authorize(client["client_id"], Pkce())).status_code == 302


async def test_consent_cookie_is_host_prefixed_secure_httponly_lax_on_https(
    make_runtime: RuntimeFactory, browser: Browser
) -> None:
    """Spec-mandated (MCP best practices §Consent Cookie Security)."""
    runtime: Runtime = make_runtime(public_url="https://gw.example.com")
    app: FastAPI = create_app(runtime=runtime)
    app.dependency_overrides[current_user] = lambda: browser.user
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="https://gw.example.com") as http:
        flow = OAuthFlow(http)
        client = await flow.register()
        page = await flow.authorize(client["client_id"], Pkce(), resource="https://gw.example.com/github/mcp")
    cookie = page.headers["set-cookie"]
    assert cookie.startswith("__Host-portico-consent-")
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite=lax", "path=/"} <= attributes
    assert not any(part.startswith("domain") for part in attributes)


async def test_consent_cookie_is_not_secure_on_loopback_http(flow: OAuthFlow) -> None:
    client = await flow.register()
    page = await flow.authorize(client["client_id"], Pkce())
    cookie = page.headers["set-cookie"]
    assert cookie.startswith("portico-consent-")
    assert "secure" not in cookie.lower() and "httponly" in cookie.lower()


async def test_two_consent_pages_open_at_once_can_both_be_answered(flow: OAuthFlow) -> None:
    client, other = await flow.register(), await flow.register()
    first = await flow.authorize(client["client_id"], Pkce())
    second = await flow.authorize(other["client_id"], Pkce())
    assert (await flow.answer(first)).status_code == 302
    assert (await flow.answer(second)).status_code == 302
