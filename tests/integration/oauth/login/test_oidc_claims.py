"""``type: oidc`` specifics against a local OpenID provider: claim names, UserInfo, public clients.

The browser flow against the real npm ``oidc-provider`` is in tests/e2e/test_upstream_oidc_sign_in.py;
here the Google stand-in plays a generic provider so claims can be shaped per test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.clock import epoch_seconds
from tests.integration.oauth.login.conftest import PorticoFactory
from tests.integration.oauth.login.standins.driver import sign_in, users
from tests.integration.oauth.login.standins.google import CLIENT_ID, CLIENT_SECRET, GoogleStandIn
from tests.support.asgi_server import serve_asgi
from tests.support.clock import FakeClock

pytestmark = pytest.mark.anyio


@pytest.fixture
def idp(clock: FakeClock) -> Iterator[GoogleStandIn]:
    standin = GoogleStandIn(clock=lambda: epoch_seconds(clock.now()))
    with serve_asgi(standin.app()) as base_url:
        standin.oauth.base_url = base_url
        yield standin


def oidc_login(idp: GoogleStandIn, rules: dict[str, Any], **provider: Any) -> dict[str, Any]:
    entry = {"type": "oidc", "issuer": idp.base_url, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    return {"providers": [{**entry, **provider}], **rules}


async def test_claim_names_are_configurable(portico_with: PorticoFactory, idp: GoogleStandIn) -> None:
    """Entra-style tokens: the address in ``upn``, roles as groups, ``email_verified`` as a string."""
    idp.id_token_claims = {"email": None, "upn": "Ops@Corp.Example", "roles": ["sre"], "verified": "true"}
    provider = {"email_claim": "upn", "groups_claim": "roles", "email_verified_claim": "verified"}
    runtime, http = await portico_with(oidc_login(idp, {"allowed_groups": ["sre"]}, **provider))
    assert (await sign_in(http, "oidc", "login_hint", "alice")).status_code == 303
    [user] = users(runtime)
    assert (user.provider_subject, user.email, user.groups, user.domain) == (
        "110001",
        "ops@corp.example",
        ["sre"],
        None,
    )


async def test_userinfo_adds_claims_the_id_token_lacks(portico_with: PorticoFactory, idp: GoogleStandIn) -> None:
    """OpenID Connect Core §5.3: groups only in the UserInfo answer still count."""
    idp.userinfo_claims = {"groups": ["engineering"], "name": "Alice A."}
    runtime, http = await portico_with(oidc_login(idp, {"allowed_groups": ["engineering"]}, fetch_userinfo=True))
    assert (await sign_in(http, "oidc", "login_hint", "alice")).status_code == 303
    [user] = users(runtime)
    assert (user.groups, user.name) == (["engineering"], "Alice A.")


async def test_userinfo_about_another_subject_is_refused(portico_with: PorticoFactory, idp: GoogleStandIn) -> None:
    """Spec-mandated: OpenID Connect Core §5.3.4."""
    idp.userinfo_claims = {"sub": "someone-else"}
    runtime, http = await portico_with(oidc_login(idp, {"allowed_domains": ["example.com"]}, fetch_userinfo=True))
    response = await sign_in(http, "oidc", "login_hint", "alice")
    assert response.status_code == 400 and "about another subject" in response.text
    assert users(runtime) == []


async def test_the_verified_email_domain_is_matched_for_generic_providers(
    portico_with: PorticoFactory, idp: GoogleStandIn
) -> None:
    """Unlike Google, a generic provider's verified email vouches for its domain (hd is ignored)."""
    runtime, http = await portico_with(oidc_login(idp, {"allowed_domains": ["example.com"]}))
    assert (await sign_in(http, "oidc", "login_hint", "outsider")).status_code == 303
    assert [user.email for user in users(runtime)] == ["outsider@example.com"]


async def test_client_secret_post_sends_the_secret_in_the_form(
    portico_with: PorticoFactory, idp: GoogleStandIn
) -> None:
    provider = {"token_endpoint_auth_method": "client_secret_post"}
    _, http = await portico_with(oidc_login(idp, {"allowed_domains": ["example.com"]}, **provider))
    assert (await sign_in(http, "oidc", "login_hint", "alice")).status_code == 303
    [token_request] = idp.oauth.token_requests
    assert (token_request["client_id"], token_request["client_secret"]) == (CLIENT_ID, CLIENT_SECRET)
