"""The consent page under an access policy: an unusable server is never offered, a restricted one says how."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from app.db import transaction
from app.main import create_app
from app.runtime import Runtime
from oauth.login.api import SignedInUser, accounts_by_email
from oauth.login.session.identity import UpstreamIdentity
from oauth.login.session.sign_in import sign_in
from tests.integration.oauth.conftest import RuntimeFactory
from tests.support.oauth import ISSUER, JIRA, Browser, OAuthFlow, Pkce, query_of

pytestmark = pytest.mark.anyio
LOGIN = {"providers": [{"type": "dev"}], "allowed_domains": ["example.com"]}
POLICY: dict[str, Any] = {
    "default": "deny",
    "rules": [
        {"name": "eng", "effect": "allow", "groups": ["engineering"], "servers": {"github": {}, "jira": {}}},
        {"effect": "allow", "domains": ["example.com"], "servers": {"jira": {"tools": ["get_*", "list_*"]}}},
    ],
}


@pytest.fixture
def runtime(make_runtime: RuntimeFactory) -> Runtime:
    return make_runtime(login=LOGIN, policy=POLICY)


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime=runtime)


async def alice_with(runtime: Runtime, browser: Browser, *groups: str) -> None:
    """Alice signs in (her groups stored as the IdP sent them) and is the browser's user."""
    identity = UpstreamIdentity("dev", "alice@example.com", "alice@example.com", True, groups=groups)
    await sign_in(runtime, identity)
    with transaction(runtime.db) as db:
        [account] = accounts_by_email(db, "alice@example.com")
    browser.user = SignedInUser(account.subject, account.email, "Alice", "ls-alice")


async def test_a_server_the_policy_does_not_allow_is_not_offered_and_no_code_is_issued(
    runtime: Runtime, flow: OAuthFlow, browser: Browser
) -> None:
    await alice_with(runtime, browser)
    client = await flow.register(client_name="Claude")
    response = await flow.authorize(client["client_id"], Pkce())
    assert response.status_code == 403 and "location" not in response.headers
    assert "Your organization's policy does not allow GitHub" in response.text
    assert 'name="decision"' not in response.text and 'name="csrf"' not in response.text
    assert response.headers["x-frame-options"] == "DENY"
    [link] = [part.split('"')[0] for part in response.text.split('class="return-link" href="')[1:]]
    params = query_of(link.replace("&amp;", "&"))
    assert link.startswith("https://claude.ai/api/mcp/auth_callback?")
    assert (params["error"], params["state"], params["iss"]) == ("access_denied", "xyz-state", ISSUER)
    assert "code" not in params and "rules" not in params["error_description"]


async def test_prompt_none_is_answered_access_denied_at_once(
    runtime: Runtime, flow: OAuthFlow, browser: Browser
) -> None:
    await alice_with(runtime, browser)
    client = await flow.register()
    response = await flow.authorize(client["client_id"], Pkce(), prompt="none")
    assert response.status_code == 302
    params = query_of(response.headers["location"])
    assert (params["error"], params["state"]) == ("access_denied", "xyz-state") and "code" not in params


async def test_a_restricted_server_shows_what_the_user_may_use(
    runtime: Runtime, flow: OAuthFlow, browser: Browser
) -> None:
    await alice_with(runtime, browser)
    client = await flow.register()
    page = await flow.authorize(client["client_id"], Pkce(), resource=JIRA)
    assert page.status_code == 200 and 'value="approve"' in page.text
    assert "<li>only tools matching get_*, list_*</li>" in page.text
    assert "<li>no resources</li>" in page.text and "<li>no prompts</li>" in page.text
    response = await flow.answer(page)
    assert response.status_code == 302 and "code" in query_of(response.headers["location"])


async def test_an_unrestricted_user_sees_no_policy_section(runtime: Runtime, flow: OAuthFlow, browser: Browser) -> None:
    await alice_with(runtime, browser, "engineering")
    client = await flow.register()
    page = await flow.authorize(client["client_id"], Pkce())
    assert page.status_code == 200 and "policy-restrictions" not in page.text


async def test_a_remembered_consent_issues_no_code_once_the_policy_denies(
    runtime: Runtime, flow: OAuthFlow, browser: Browser
) -> None:
    await alice_with(runtime, browser, "engineering")
    client = await flow.register()
    assert await flow.code(client["client_id"], Pkce())  # approved and remembered
    await alice_with(runtime, browser)  # signs in again: the IdP no longer sends the group
    response = await flow.authorize(client["client_id"], Pkce())
    assert response.status_code == 403 and "location" not in response.headers


async def test_approving_checks_the_policy_again(runtime: Runtime, flow: OAuthFlow, browser: Browser) -> None:
    await alice_with(runtime, browser, "engineering")
    client = await flow.register()
    page = await flow.authorize(client["client_id"], Pkce())
    await alice_with(runtime, browser)  # the group is gone before she answers
    response = await flow.answer(page)
    assert response.status_code == 302
    params = query_of(response.headers["location"])
    assert params["error"] == "access_denied" and "code" not in params
