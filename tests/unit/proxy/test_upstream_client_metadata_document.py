"""How Portico identifies itself at a discovered authorization server, and the document it serves."""

from __future__ import annotations

from typing import Any

import pytest

from app.config import PorticoConfig
from app.config.schema import OAuthCredentialsConfig
from oauth.client.errors import AuthorizationServerUnavailableError
from proxy.credentials.oauth.client_metadata_document import client_metadata_document
from proxy.credentials.oauth.discovery import uses_metadata_document

SUPPORTS = {"client_id_metadata_document_supported": True}


def spec(registration: str) -> OAuthCredentialsConfig:
    return OAuthCredentialsConfig.model_validate({"type": "oauth", "discover": True, "registration": registration})


@pytest.mark.parametrize(
    ("registration", "metadata", "public_url", "expected"),
    [
        ("auto", SUPPORTS, "https://gw.example.com", True),
        ("auto", SUPPORTS, "http://127.0.0.1:8080", False),  # the server could not fetch the document
        ("auto", {}, "https://gw.example.com", False),
        ("auto", {"client_id_metadata_document_supported": "yes"}, "https://gw.example.com", False),
        ("cimd", SUPPORTS, "http://127.0.0.1:8080", True),
        ("dcr", SUPPORTS, "https://gw.example.com", False),
    ],
)
def test_the_document_is_used_when_chosen_or_when_auto_finds_it_usable(
    registration: str, metadata: dict[str, Any], public_url: str, expected: bool
) -> None:
    """Our choice (MCP authorization 2025-11-25: prefer a metadata document, then DCR)."""
    assert uses_metadata_document(spec(registration), metadata, public_url) is expected


def test_cimd_at_a_server_that_does_not_accept_documents_is_a_clear_error() -> None:
    with pytest.raises(AuthorizationServerUnavailableError, match="does not accept Client ID Metadata Documents"):
        uses_metadata_document(spec("cimd"), {}, "https://gw.example.com")


def config(servers: dict[str, Any]) -> PorticoConfig:
    return PorticoConfig.model_validate({"public_url": "https://gw.example.com", "servers": servers})


def http(credentials: Any) -> dict[str, Any]:
    return {"transport": "streamable-http", "url": "https://up.example.com/mcp", "credentials": credentials}


def test_the_document_lists_the_callbacks_of_the_servers_that_may_use_it() -> None:
    document = client_metadata_document(
        config(
            {
                "linear": http({"type": "oauth", "discover": True}),
                "notion": http({"type": "oauth", "discover": True, "registration": "cimd"}),
                "jira": http({"type": "oauth", "discover": True, "registration": "dcr"}),
                "plain": http("none"),
            }
        )
    )
    assert document == {
        "client_id": "https://gw.example.com/connections/oauth-client.json",
        "client_name": "Portico (https://gw.example.com)",
        "client_uri": "https://gw.example.com",
        "redirect_uris": [
            "https://gw.example.com/connections/linear/callback",
            "https://gw.example.com/connections/notion/callback",
        ],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    }


def test_there_is_no_document_without_a_server_that_may_use_it() -> None:
    assert (
        client_metadata_document(config({"jira": http({"type": "oauth", "discover": True, "registration": "dcr"})}))
        is None
    )
