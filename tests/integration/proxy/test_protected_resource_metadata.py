"""``/.well-known/oauth-protected-resource/<server>/<kind>`` (RFC 9728), served in-process."""

from __future__ import annotations

import httpx2
import pytest

from tests.integration.proxy.conftest import PUBLIC_URL

pytestmark = pytest.mark.anyio

WELL_KNOWN = "/.well-known/oauth-protected-resource"


async def test_metadata_of_an_mcp_route_is_exact(http: httpx2.AsyncClient) -> None:
    """Spec-mandated: RFC 9728 §2/§3.3, ``resource`` equals the route URL; MCP authorization §1.3."""
    response = await http.get(f"{WELL_KNOWN}/github/mcp")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "resource": f"{PUBLIC_URL}/github/mcp",
        "authorization_servers": [PUBLIC_URL],
        "scopes_supported": ["mcp"],
        "bearer_methods_supported": ["header"],
        "resource_name": "GitHub",
    }


async def test_metadata_of_an_sse_route_names_the_sse_url_and_falls_back_to_the_server_name(
    http: httpx2.AsyncClient,
) -> None:
    """Spec-mandated: RFC 9728 §3.3 (``resource`` = the URL the document was derived from)."""
    response = await http.get(f"{WELL_KNOWN}/jira/sse")
    assert response.status_code == 200
    assert response.json() == {
        "resource": f"{PUBLIC_URL}/jira/sse",
        "authorization_servers": [PUBLIC_URL],
        "scopes_supported": ["mcp"],
        "bearer_methods_supported": ["header"],
        "resource_name": "jira",
    }


async def test_issuer_in_metadata_is_byte_identical_to_public_url(http: httpx2.AsyncClient) -> None:
    """Spec-mandated: RFC 8414 §3.3 / RFC 9207 exact issuer comparison by clients."""
    response = await http.get(f"{WELL_KNOWN}/github/sse")
    assert f'"authorization_servers":["{PUBLIC_URL}"]'.encode() in response.content


async def test_metadata_is_public_cacheable_and_readable_cross_origin(http: httpx2.AsyncClient) -> None:
    """Our choice (as the MCP SDK): any origin may read it; a short public cache lifetime."""
    response = await http.get(f"{WELL_KNOWN}/github/mcp", headers={"Origin": "https://inspector.example"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["cache-control"] == "public, max-age=300"


async def test_cors_preflight_allows_get_with_the_mcp_protocol_version_header(http: httpx2.AsyncClient) -> None:
    """Our choice (as the MCP SDK's PRM route): GET/OPTIONS from any origin, ``MCP-Protocol-Version`` allowed."""
    response = await http.options(
        f"{WELL_KNOWN}/github/mcp",
        headers={
            "Origin": "https://inspector.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "mcp-protocol-version",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-allow-methods"] == "GET, OPTIONS"
    assert response.headers["access-control-allow-headers"].lower() == "mcp-protocol-version"


@pytest.mark.parametrize("path", ["/nope/mcp", "/github/ws", "/GitHub/mcp"])
async def test_unknown_server_or_route_kind_is_404_json(http: httpx2.AsyncClient, path: str) -> None:
    """Our choice: a JSON ``not_found`` body, still readable cross-origin."""
    response = await http.get(f"{WELL_KNOWN}{path}")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert response.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize("path", ["", "/", "/github", "/github/mcp/extra"])
async def test_no_document_outside_the_route_paths(http: httpx2.AsyncClient, path: str) -> None:
    """Our choice: no root document (every route is its own resource; see the module docstring)."""
    response = await http.get(f"{WELL_KNOWN}{path}")
    assert response.status_code == 404
