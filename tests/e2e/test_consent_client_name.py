"""Client names on the consent page (issue #15 finding 7): nothing hidden, the verified host beside the name.

Real deployment (tests/support/deployment.py): ``portico serve`` on PostgreSQL, sign-in at the
``oidc-provider`` IdP, Client ID Metadata Documents served over HTTPS for ``localhost``; Chromium.
"""

from __future__ import annotations

from urllib.parse import urlencode

import httpx2
import pytest
from playwright.async_api import Page, expect

from tests.support.deployment import Deployment
from tests.support.idp import sign_in_at_idp
from tests.support.oauth import Pkce
from tests.support.processes import free_port

pytestmark = [pytest.mark.anyio, pytest.mark.browser, pytest.mark.node]

BIDI_NAME = "\u202eevil\u202c Claude Desktop"


def authorize_url(deployment: Deployment, client_id: str, redirect_uri: str) -> str:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "code_challenge": Pkce().challenge,
        "code_challenge_method": "S256",
        "state": "client-state",
        "scope": "mcp",
        "resource": deployment.url("time"),
    }
    return f"{deployment.base_url}/authorize?{urlencode(params)}"


def serve_document(deployment: Deployment, path: str, client_name: str, redirect_uri: str) -> str:
    client_id = f"{deployment.documents.base_url}{path}"
    deployment.documents.documents[path] = {
        "client_id": client_id,
        "client_name": client_name,
        "redirect_uris": [redirect_uri],
        "token_endpoint_auth_method": "none",
    }
    return client_id


async def open_consent_page(page: Page, deployment: Deployment, url: str) -> None:
    await page.goto(url)
    if page.url.startswith(deployment.idp.issuer):
        await sign_in_at_idp(page, "alice")
    await page.wait_for_url(lambda current: current.startswith(f"{deployment.base_url}/authorize?"))


@pytest.mark.parametrize("client_name", [BIDI_NAME, "Claude\u200bDesktop", "\u0421laude Desktop"])
async def test_registration_with_a_disguising_client_name_is_invalid_client_metadata(
    deployment: Deployment, client_name: str
) -> None:
    """Our choice; the error code is RFC 7591 §3.2.2's."""
    body = {
        "client_name": client_name,
        "redirect_uris": ["https://client.example/cb"],
        "token_endpoint_auth_method": "none",
    }
    response = httpx2.post(f"{deployment.base_url}/register", json=body)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_client_metadata")


async def test_a_metadata_document_with_a_bidi_client_name_gets_no_consent_page(
    page: Page, deployment: Deployment
) -> None:
    """Our choice: such a document is not acceptable, so the client is unknown (an error page, no redirect)."""
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    client_id = serve_document(deployment, "/oauth/bidi-client.json", BIDI_NAME, redirect_uri)
    await open_consent_page(page, deployment, authorize_url(deployment, client_id, redirect_uri))
    await expect(page.get_by_role("heading", name="Unknown application")).to_be_visible()
    assert await page.get_by_role("button", name="Approve").count() == 0


async def test_the_consent_heading_names_the_verified_host_of_a_metadata_document_client(
    page: Page, deployment: Deployment
) -> None:
    """MCP authorization §CIMD security: show the verified domain; our choice: beside the name, always."""
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    client_id = serve_document(deployment, "/oauth/named-client.json", "Claude Desktop", redirect_uri)
    await open_consent_page(page, deployment, authorize_url(deployment, client_id, redirect_uri))
    heading = page.get_by_role("heading", level=1)
    await expect(heading).to_have_text("Allow Claude Desktop (localhost) to use Current time?")


async def test_the_consent_heading_says_not_verified_for_a_registered_client(
    page: Page, deployment: Deployment
) -> None:
    """Our choice: a self-registered name is never shown without saying that nobody vouches for it."""
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    body = {"client_name": "Claude Desktop", "redirect_uris": [redirect_uri], "token_endpoint_auth_method": "none"}
    registered = httpx2.post(f"{deployment.base_url}/register", json=body)
    assert registered.status_code == 201, registered.text
    await open_consent_page(page, deployment, authorize_url(deployment, registered.json()["client_id"], redirect_uri))
    heading = page.get_by_role("heading", level=1)
    await expect(heading).to_have_text("Allow Claude Desktop (not verified) to use Current time?")
