"""Discovery: authorization server metadata (RFC 8414), JWKS, and CORS for browser-based clients."""

from __future__ import annotations

import httpx2
import pytest

from app.runtime import Runtime
from tests.support.oauth import ISSUER, Browser

pytestmark = pytest.mark.anyio

METADATA_PATHS = ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"]
EXPECTED = {
    "issuer": ISSUER,
    "authorization_endpoint": f"{ISSUER}/authorize",
    "token_endpoint": f"{ISSUER}/token",
    "registration_endpoint": f"{ISSUER}/register",
    "revocation_endpoint": f"{ISSUER}/revoke",
    "introspection_endpoint": f"{ISSUER}/introspect",
    "jwks_uri": f"{ISSUER}/jwks",
    "scopes_supported": ["mcp", "offline_access"],
    "response_types_supported": ["code"],
    "response_modes_supported": ["query"],
    "grant_types_supported": ["authorization_code", "refresh_token"],
    "code_challenge_methods_supported": ["S256"],
    "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
    "revocation_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
    "introspection_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
    "client_id_metadata_document_supported": True,
    "authorization_response_iss_parameter_supported": True,
}


@pytest.mark.parametrize("path", METADATA_PATHS)
async def test_metadata_document_is_exactly_the_published_set(http: httpx2.AsyncClient, path: str) -> None:
    """Spec-mandated (RFC 8414 §2; MCP authorization §AS metadata; issue field list)."""
    response = await http.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == EXPECTED


@pytest.mark.parametrize("path", METADATA_PATHS)
async def test_issuer_is_byte_identical_to_public_url(http: httpx2.AsyncClient, runtime: Runtime, path: str) -> None:
    """Spec-mandated (RFC 8414 §3.3): issuer = metadata URL minus the well-known suffix, no trailing slash."""
    body = (await http.get(path)).content
    assert f'"issuer":"{runtime.config.public_url}"'.encode() in body
    assert not runtime.config.public_url.endswith("/")


async def test_both_discovery_documents_are_identical(http: httpx2.AsyncClient) -> None:
    first, second = [(await http.get(path)).content for path in METADATA_PATHS]
    assert first == second


async def test_jwks_serves_the_signing_key(http: httpx2.AsyncClient, runtime: Runtime) -> None:
    """Spec-mandated (RFC 8414 ``jwks_uri``; RFC 7517 §5): public keys only."""
    response = await http.get("/jwks")
    assert response.status_code == 200
    [key] = response.json()["keys"]
    assert key["kid"] == runtime.signing_keys.signing_key.kid
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("EC", "P-256", "ES256", "sig")
    assert "d" not in key


@pytest.mark.parametrize(
    ("path", "method"),
    [
        *((path, "GET") for path in METADATA_PATHS),
        ("/jwks", "GET"),
        ("/register", "POST"),
        ("/token", "POST"),
        ("/revoke", "POST"),
    ],
)
async def test_cors_preflight_is_answered_for_browser_clients(http: httpx2.AsyncClient, path: str, method: str) -> None:
    """Our choice (issue rule): browser-based MCP clients call these endpoints cross-origin."""
    headers = {
        "origin": "https://inspector.example",
        "access-control-request-method": method,
        "access-control-request-headers": "content-type, authorization",
    }
    response = await http.options(path, headers=headers)
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert method in response.headers["access-control-allow-methods"]
    assert "Authorization" in response.headers["access-control-allow-headers"]
    assert "access-control-allow-credentials" not in response.headers


async def test_cross_origin_responses_carry_the_allow_origin_header(http: httpx2.AsyncClient) -> None:
    metadata = await http.get(METADATA_PATHS[0], headers={"origin": "https://inspector.example"})
    token = await http.post("/token", data={}, headers={"origin": "https://inspector.example"})
    assert metadata.headers["access-control-allow-origin"] == "*"
    assert token.headers["access-control-allow-origin"] == "*"


async def test_the_authorization_endpoint_has_no_cors(http: httpx2.AsyncClient, browser: Browser) -> None:
    response = await http.get("/authorize", headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers
