"""``prompt`` and ``max_age`` at /authorize (OpenID Connect Core 1.0 §3.1.2.1), in-process.

The signed-in browser is the ``browser`` fixture; tests/e2e/test_authorize_prompt.py drives the
same behaviour with the real IdP and Chromium.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from tests.support.clock import FakeClock
from tests.support.oauth import CLAUDE_CALLBACK, ISSUER, Browser, OAuthFlow, Pkce, query_of

pytestmark = pytest.mark.anyio


def assert_client_error(response: httpx2.Response, error: str) -> None:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(CLAUDE_CALLBACK + "?")
    params = query_of(location)
    assert (params["error"], params["state"], params["iss"]) == (error, "xyz-state", ISSUER)
    assert "code" not in params


def login_target(response: httpx2.Response) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The /login redirect's parameters, and those of the authorization request it returns to."""
    assert response.status_code == 303, response.text
    parts = urlsplit(response.headers["location"])
    assert parts.path == "/login"
    login = query_of(response.headers["location"])
    return login, parse_qs(urlsplit(login["return_to"]).query)


async def remember_consent(flow: OAuthFlow, client_id: str) -> None:
    await flow.code(client_id, Pkce())


async def test_prompt_none_without_a_login_session_redirects_login_required(flow: OAuthFlow, browser: Browser) -> None:
    """Spec-mandated (OIDC Core §3.1.2.1, §3.1.2.6)."""
    client = await flow.register()
    browser.user = None
    assert_client_error(await flow.authorize(client["client_id"], Pkce(), prompt="none"), "login_required")


async def test_prompt_none_without_consent_redirects_consent_required(flow: OAuthFlow) -> None:
    """Spec-mandated (OIDC Core §3.1.2.1): no consent page may be shown."""
    client = await flow.register()
    assert_client_error(await flow.authorize(client["client_id"], Pkce(), prompt="none"), "consent_required")


async def test_prompt_none_with_remembered_consent_issues_a_code_silently(flow: OAuthFlow) -> None:
    client = await flow.register()
    await remember_consent(flow, client["client_id"])
    response = await flow.authorize(client["client_id"], Pkce(), prompt="none")
    assert response.status_code == 302 and "code" in query_of(response.headers["location"])


@pytest.mark.parametrize("prompt", ["none login", "none consent", "none unknown"])
async def test_prompt_none_with_another_value_is_invalid_request(flow: OAuthFlow, prompt: str) -> None:
    """Spec-mandated (OIDC Core §3.1.2.1: none with any other value is an error)."""
    client = await flow.register()
    assert_client_error(await flow.authorize(client["client_id"], Pkce(), prompt=prompt), "invalid_request")


@pytest.mark.parametrize("max_age", ["-1", "soon", "1e3"])
async def test_a_malformed_max_age_is_invalid_request(flow: OAuthFlow, max_age: str) -> None:
    client = await flow.register()
    assert_client_error(await flow.authorize(client["client_id"], Pkce(), max_age=max_age), "invalid_request")


async def test_prompt_consent_shows_the_page_despite_remembered_consent(flow: OAuthFlow) -> None:
    """Spec-mandated (OIDC Core §3.1.2.1: consent — prompt the End-User for consent)."""
    client = await flow.register()
    await remember_consent(flow, client["client_id"])
    page = await flow.authorize(client["client_id"], Pkce(), prompt="consent")
    assert page.status_code == 200 and 'value="approve"' in page.text


async def test_unknown_prompt_values_are_ignored(flow: OAuthFlow) -> None:
    """Spec-mandated (RFC 6749 §3.1: unrecognized request parameters are ignored) — our reading for values."""
    client = await flow.register()
    await remember_consent(flow, client["client_id"])
    response = await flow.authorize(client["client_id"], Pkce(), prompt="create")
    assert response.status_code == 302 and "code" in query_of(response.headers["location"])


@pytest.mark.parametrize(("prompt", "upstream"), [("login", "login"), ("select_account", "select_account")])
async def test_prompt_login_sends_a_signed_in_user_to_sign_in_again_and_then_continues(
    flow: OAuthFlow, browser: Browser, clock: FakeClock, prompt: str, upstream: str
) -> None:
    """Spec-mandated (OIDC Core §3.1.2.1: login — reauthenticate); the marker against a loop is our design."""
    client = await flow.register()
    await remember_consent(flow, client["client_id"])
    assert browser.user is not None
    browser.user = replace(browser.user, signed_in_at=int(clock.now().timestamp()) - 5)
    login, target = login_target(await flow.authorize(client["client_id"], Pkce(), prompt=prompt))
    assert login["prompt"] == upstream
    assert target["prompt"] == [prompt] and len(target["portico_reauth"]) == 1

    same_session = await flow.http.get(login["return_to"])
    login_target(same_session)  # the old login session is still not enough
    clock.advance(3)
    browser.user = replace(browser.user, signed_in_at=int(clock.now().timestamp()))
    after_sign_in = await flow.http.get(login["return_to"])
    assert after_sign_in.status_code == 302 and "code" in query_of(after_sign_in.headers["location"])


async def test_a_forged_reauthentication_marker_does_not_skip_the_sign_in(flow: OAuthFlow, browser: Browser) -> None:
    """Our design: the marker is HMAC-signed; a client or user cannot claim an old sign-in is fresh."""
    client = await flow.register()
    await remember_consent(flow, client["client_id"])
    response = await flow.authorize(client["client_id"], Pkce(), prompt="login", portico_reauth="0.forged")
    login_target(response)


async def test_max_age_exceeded_sends_the_user_to_sign_in_again(
    flow: OAuthFlow, browser: Browser, clock: FakeClock
) -> None:
    """Spec-mandated (OIDC Core §3.1.2.1 max_age); within max_age the request continues."""
    client = await flow.register()
    await remember_consent(flow, client["client_id"])
    assert browser.user is not None
    browser.user = replace(browser.user, signed_in_at=int(clock.now().timestamp()) - 120)
    within = await flow.authorize(client["client_id"], Pkce(), max_age="300")
    assert within.status_code == 302 and "code" in query_of(within.headers["location"])
    login, _target = login_target(await flow.authorize(client["client_id"], Pkce(), max_age="60"))
    assert "prompt" not in login
    assert_client_error(
        await flow.authorize(client["client_id"], Pkce(), max_age="60", prompt="none"), "login_required"
    )
