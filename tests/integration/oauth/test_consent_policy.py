"""The consent page never offers a server the access policy would refuse (issue #16, our design:
oauth/consent/server_access.py). A user who may not use the server at all gets ``access_denied``
(RFC 6749 §4.1.2.1) at ``/authorize`` and on Approve; the gateway's own guard takes the same decision."""

from __future__ import annotations

import pytest

from app.runtime import Runtime
from tests.integration.oauth.conftest import RuntimeFactory
from tests.support.oauth import GITHUB, ISSUER, JIRA, OAuthFlow, Pkce, query_of

pytestmark = pytest.mark.anyio
POLICY = {
    "default": "allow",
    "rules": [{"users": ["alice@example.com"], "effect": "deny", "servers": {"jira": {}}}],
}


@pytest.fixture
def runtime(make_runtime: RuntimeFactory) -> Runtime:
    return make_runtime(policy=POLICY)


async def test_a_server_the_policy_refuses_ends_in_access_denied_without_a_consent_page(flow: OAuthFlow) -> None:
    client = await flow.register()
    refused = await flow.authorize(client["client_id"], Pkce(), resource=JIRA)
    assert refused.status_code == 302, refused.text
    params = query_of(refused.headers["location"])
    assert (params["error"], params["state"], params["iss"]) == ("access_denied", "xyz-state", ISSUER)
    assert "code" not in params


async def test_a_server_the_policy_allows_gets_the_consent_page_and_a_code(flow: OAuthFlow) -> None:
    client = await flow.register()
    page = await flow.authorize(client["client_id"], Pkce(), resource=GITHUB)
    assert page.status_code == 200 and 'value="approve"' in page.text
    approved = await flow.answer(page)
    assert "code" in query_of(approved.headers["location"])
