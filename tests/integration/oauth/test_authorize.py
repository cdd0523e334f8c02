"""The authorization endpoint: what is shown as a page, what is redirected, and when."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from fastapi import FastAPI

from app.main import create_app
from oauth.cimd import ClientMetadataResolver
from oauth.login.api import current_user
from tests.integration.oauth.cimd.document_server import DocumentServer, running_document_server
from tests.integration.oauth.conftest import RuntimeFactory
from tests.support.oauth import CLAUDE_CALLBACK, GITHUB, ISSUER, Browser, OAuthFlow, Pkce, hidden_input, query_of

pytestmark = pytest.mark.anyio


def assert_error_page(response: httpx2.Response) -> None:
    assert response.status_code == 400
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")


def assert_error_redirect(response: httpx2.Response, error: str, redirect_uri: str = CLAUDE_CALLBACK) -> None:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(redirect_uri + "?")
    params = query_of(location)
    assert params["error"] == error
    assert params["state"] == "xyz-state"
    assert params["iss"] == ISSUER
    assert "code" not in params


async def test_unknown_client_gets_an_error_page_and_no_redirect(flow: OAuthFlow) -> None:
    """Spec-mandated (RFC 6749 §4.1.2.1): never redirect before the client is known."""
    assert_error_page(await flow.authorize("no-such-client", Pkce()))


async def test_missing_client_id_gets_an_error_page(flow: OAuthFlow) -> None:
    params = flow.authorize_params("x", Pkce())
    del params["client_id"]
    assert_error_page(await flow.http.get("/authorize", params=params))


async def test_unregistered_redirect_uri_gets_an_error_page_and_no_redirect(flow: OAuthFlow) -> None:
    """Spec-mandated (RFC 6749 §4.1.2.1; MCP §Open Redirection)."""
    client = await flow.register()
    response = await flow.authorize(client["client_id"], Pkce(), redirect_uri="https://evil.example/cb")
    assert_error_page(response)
    assert "evil.example" not in response.text


@pytest.mark.parametrize(
    ("registered", "requested"),
    [
        ("http://127.0.0.1/callback", "http://127.0.0.1:51004/callback"),
        ("http://[::1]/callback", "http://[::1]:51004/callback"),
        ("http://localhost/callback", "http://localhost:51004/callback"),
    ],
)
async def test_loopback_redirect_uris_match_on_any_port(flow: OAuthFlow, registered: str, requested: str) -> None:
    """Spec-mandated (RFC 8252 §7.3; Claude Code registers port-less loopback URIs)."""
    client = await flow.register(redirect_uris=[registered])
    response = await flow.authorize(client["client_id"], Pkce(), redirect_uri=requested)
    assert response.status_code == 200
    assert hidden_input(response.text, "state")


async def test_a_non_loopback_redirect_uri_on_another_port_is_refused(flow: OAuthFlow) -> None:
    client = await flow.register(redirect_uris=["https://app.example.com/cb"])
    assert_error_page(await flow.authorize(client["client_id"], Pkce(), redirect_uri="https://app.example.com:8443/cb"))


async def test_missing_code_challenge_is_refused(flow: OAuthFlow) -> None:
    """Spec-mandated (OAuth 2.1 §4.1.1; MCP: PKCE required)."""
    client = await flow.register()
    response = await flow.authorize(client["client_id"], Pkce(), code_challenge=None, code_challenge_method=None)
    assert_error_redirect(response, "invalid_request")


@pytest.mark.parametrize("method", ["plain", None, "s256", "S512"])
async def test_any_method_but_s256_is_refused(flow: OAuthFlow, method: str | None) -> None:
    """Spec-mandated (MCP 2025-11-25: S256); a missing method would mean ``plain``."""
    client = await flow.register()
    response = await flow.authorize(client["client_id"], Pkce(), code_challenge_method=method)
    assert_error_redirect(response, "invalid_request")


async def test_unsupported_response_type_is_redirected(flow: OAuthFlow) -> None:
    client = await flow.register()
    response = await flow.authorize(client["client_id"], Pkce(), response_type="token")
    assert_error_redirect(response, "unsupported_response_type")
    assert query_of(response.headers["location"])["error_description"] == "only response_type=code is supported"


async def test_unsupported_response_type_with_an_unregistered_redirect_uri_gets_an_error_page(flow: OAuthFlow) -> None:
    client = await flow.register()
    response = await flow.authorize(
        client["client_id"], Pkce(), response_type="token", redirect_uri="https://e.example/"
    )
    assert_error_page(response)


@pytest.mark.parametrize("resource", [f"{ISSUER}/nope/mcp", "https://evil.example/github/mcp", f"{ISSUER}/github"])
async def test_unknown_resource_is_invalid_target(flow: OAuthFlow, resource: str) -> None:
    """Spec-mandated (RFC 8707 §2)."""
    client = await flow.register()
    assert_error_redirect(await flow.authorize(client["client_id"], Pkce(), resource=resource), "invalid_target")


async def test_missing_resource_with_several_servers_is_invalid_target(flow: OAuthFlow) -> None:
    """Our choice (oauth/resource_indicators.py): no guessing among several servers."""
    client = await flow.register()
    response = await flow.authorize(client["client_id"], Pkce(), resource=None)
    assert_error_redirect(response, "invalid_target")
    assert "resource is required" in query_of(response.headers["location"])["error_description"]


async def test_missing_resource_with_one_server_binds_its_mcp_route(
    make_runtime: RuntimeFactory, browser: Browser
) -> None:
    """Our choice: the only server's Streamable HTTP URL, shown on the consent page and used as ``aud``."""
    runtime = make_runtime(servers={"github": {"transport": "streamable-http", "url": "https://up.example/mcp"}})
    app = create_app(runtime=runtime)
    app.dependency_overrides[current_user] = lambda: browser.user
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=ISSUER) as http:
        flow = OAuthFlow(http)
        client = await flow.register()
        pkce = Pkce()
        page = await flow.authorize(client["client_id"], pkce, resource=None)
        assert GITHUB in page.text
        code = query_of((await flow.answer(page)).headers["location"])["code"]
        tokens = (await flow.exchange(client["client_id"], code, pkce, resource=None)).json()
        introspection = await flow.introspect(client["client_id"], tokens["access_token"])
    assert introspection["aud"] == GITHUB


async def test_unknown_scope_is_granted_the_default_scope(flow: OAuthFlow) -> None:
    """Our choice (issue rule): never ``invalid_scope``."""
    client = await flow.register()
    pkce = Pkce()
    code = await flow.code(client["client_id"], pkce, scope="claudeai weird:scope")
    body = (await flow.exchange(client["client_id"], code, pkce)).json()
    assert body["scope"] == "mcp"


async def test_signed_out_user_is_sent_to_sign_in_and_back(flow: OAuthFlow, browser: Browser) -> None:
    """Our choice: validate first, then sign in, then return to the same /authorize URL."""
    client = await flow.register()
    browser.user = None
    params = flow.authorize_params(client["client_id"], Pkce())
    response = await flow.http.get("/authorize", params=params)
    assert response.status_code == 303
    login = urlsplit(response.headers["location"])
    assert login.path == "/login"
    return_to = parse_qs(login.query)["return_to"][0]
    assert return_to.startswith("/authorize?")
    assert query_of(return_to) == params


async def test_signed_out_user_with_a_bad_request_sees_the_error_first(flow: OAuthFlow, browser: Browser) -> None:
    browser.user = None
    assert_error_page(await flow.authorize("no-such-client", Pkce()))


async def test_user_who_may_no_longer_sign_in_gets_access_denied(flow: OAuthFlow, browser: Browser) -> None:
    """Our choice: the access rules are re-checked at every authorization."""
    client = await flow.register()
    browser.may_continue = False
    assert_error_redirect(await flow.authorize(client["client_id"], Pkce()), "access_denied")


async def test_state_is_echoed_unchanged_with_the_code(flow: OAuthFlow) -> None:
    """Spec-mandated (RFC 6749 §4.1.2; RFC 9207 iss)."""
    client = await flow.register()
    page = await flow.authorize(client["client_id"], Pkce(), state="a b&c=d/é")
    params = query_of((await flow.answer(page)).headers["location"])
    assert params["state"] == "a b&c=d/é" and params["iss"] == ISSUER and params["code"]


async def test_the_redirect_keeps_the_redirect_uris_own_query(flow: OAuthFlow) -> None:
    client = await flow.register(redirect_uris=["https://app.example.com/cb?tenant=7"])
    page = await flow.authorize(client["client_id"], Pkce(), redirect_uri="https://app.example.com/cb?tenant=7")
    location = (await flow.answer(page)).headers["location"]
    assert location.startswith("https://app.example.com/cb?tenant=7&code=")


class FakeDocuments:
    """Stands in for oauth.cimd's resolver."""

    def __init__(self, documents: dict[str, Any]) -> None:
        self.documents = documents
        self.calls: list[str] = []

    async def resolve(self, client_id: str) -> Any:
        self.calls.append(client_id)
        if client_id not in self.documents:
            raise LookupError("document unavailable")
        return self.documents[client_id]


class Document:
    def __init__(self, client_id: str, redirect_uris: tuple[str, ...], client_name: str = "Claude") -> None:
        self.client_id = client_id
        self.client_name = client_name
        self.client_uri = "https://claude.ai"
        self.redirect_uris = redirect_uris
        self.host = urlsplit(client_id).hostname or ""


CIMD_ID = "https://claude.ai/oauth/mcp-oauth-client-metadata"


async def test_a_metadata_document_client_authorizes_with_its_documents_redirect_uris(
    flow: OAuthFlow, app: FastAPI
) -> None:
    """Spec-mandated (MCP 2025-11-25 §CIMD): redirect URIs come from the document; public client."""
    documents = FakeDocuments({CIMD_ID: Document(CIMD_ID, (CLAUDE_CALLBACK,))})
    app.state.metadata_documents = documents
    pkce = Pkce()
    page = await flow.authorize(CIMD_ID, pkce)
    assert page.status_code == 200
    assert '<dd class="verified-domain">claude.ai</dd>' in page.text
    code = query_of((await flow.answer(page)).headers["location"])["code"]
    response = await flow.exchange(CIMD_ID, code, pkce)
    assert response.status_code == 200
    assert (await flow.introspect(CIMD_ID, response.json()["access_token"]))["client_id"] == CIMD_ID


async def test_a_metadata_document_client_with_another_redirect_uri_gets_an_error_page(
    flow: OAuthFlow, app: FastAPI
) -> None:
    documents = FakeDocuments({CIMD_ID: Document(CIMD_ID, (CLAUDE_CALLBACK,))})
    app.state.metadata_documents = documents
    assert_error_page(await flow.authorize(CIMD_ID, Pkce(), redirect_uri="https://claude.com/api/mcp/auth_callback"))


async def test_an_unfetchable_metadata_document_gets_an_error_page(flow: OAuthFlow, app: FastAPI) -> None:
    """Spec-derived (CIMD draft: a failed fetch SHOULD abort the authorization)."""
    app.state.metadata_documents = FakeDocuments({})
    assert_error_page(await flow.authorize(CIMD_ID, Pkce()))


async def test_with_metadata_documents_disabled_url_client_ids_are_unknown(flow: OAuthFlow, app: FastAPI) -> None:
    """Our choice: ``oauth.client_metadata_documents.enabled: false`` turns CIMD clients away."""
    app.state.metadata_documents = None
    assert_error_page(await flow.authorize(CIMD_ID, Pkce()))


async def test_claude_metadata_document_client_is_known_by_default(flow: OAuthFlow) -> None:
    """Claude's document resolves (fetched, or the pinned copy when unreachable), so no error page."""
    response = await flow.authorize(CIMD_ID, Pkce(), redirect_uri="https://claude.ai/api/mcp/auth_callback")
    assert response.status_code == 200, response.text
    assert '<dd class="verified-domain">claude.ai</dd>' in response.text


@pytest.fixture
def document_server() -> Iterator[DocumentServer]:
    with running_document_server() as running:
        yield running


async def test_an_http_document_on_an_allow_listed_host_is_a_known_client(
    flow: OAuthFlow, app: FastAPI, document_server: DocumentServer
) -> None:
    """Our choice (``client_metadata_documents.allow_hosts``: test/internal hosts may use http)."""
    client_id = document_server.serve_valid("/client.json", redirect_uris=[CLAUDE_CALLBACK])
    app.state.metadata_documents = ClientMetadataResolver(allow_hosts=frozenset({"127.0.0.1"}))
    try:
        page = await flow.authorize(client_id, Pkce())
    finally:
        await app.state.metadata_documents.aclose()
    assert page.status_code == 200, page.text
    assert "Example App" in page.text


async def test_an_http_document_elsewhere_stays_unknown_and_is_never_fetched(
    flow: OAuthFlow, app: FastAPI, document_server: DocumentServer
) -> None:
    """Spec-mandated (CIMD draft §3: the client_id URL uses https)."""
    client_id = document_server.serve_valid("/client.json", redirect_uris=[CLAUDE_CALLBACK])
    app.state.metadata_documents = ClientMetadataResolver(allow_hosts=frozenset({"localhost"}))
    try:
        assert_error_page(await flow.authorize(client_id, Pkce()))
    finally:
        await app.state.metadata_documents.aclose()
    assert document_server.hits["/client.json"] == 0
