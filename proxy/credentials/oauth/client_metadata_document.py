"""Portico's own Client ID Metadata Document, for upstream authorization servers that accept one.

Served at ``GET /connections/oauth-client.json`` (public, no login; :mod:`proxy.connections.oauth_connect`):
the document whose URL is Portico's
``client_id`` at any authorization server that advertises ``client_id_metadata_document_supported``
(draft-ietf-oauth-client-id-metadata-document; MCP authorization 2025-11-25 §"Client ID Metadata
Documents"). It lists the callback of every ``discover: true`` server that may use it
(``registration`` ``auto`` or ``cimd``) as ``redirect_uris``; Portico is a public client there
(``token_endpoint_auth_method: none``, PKCE S256 on every flow). 404 when no server may use it.
"""

from __future__ import annotations

from typing import Any, Final

from app.config.schema import OAuthCredentialsConfig, PorticoConfig

DOCUMENT_PATH: Final = "/connections/oauth-client.json"


def document_url(public_url: str) -> str:
    """Portico's ``client_id`` wherever it uses its Client ID Metadata Document."""
    return f"{public_url}{DOCUMENT_PATH}"


def callback_url(public_url: str, server: str) -> str:
    """The redirect URI Portico uses at the upstream's authorization server for ``server``."""
    return f"{public_url}/connections/{server}/callback"


def client_metadata_document(config: PorticoConfig) -> dict[str, Any] | None:
    """The document (RFC 7591 §2 client metadata plus ``client_id``), or None when no server uses it."""
    servers = [
        name
        for name, server in config.servers.items()
        if isinstance(server.credentials, OAuthCredentialsConfig)
        and server.credentials.discover
        and server.credentials.registration != "dcr"
    ]
    if not servers:
        return None
    document: dict[str, Any] = {
        "client_id": document_url(config.public_url),
        "client_name": f"Portico ({config.public_url})",
        "redirect_uris": [callback_url(config.public_url, name) for name in servers],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    }
    if config.public_url.startswith("https://"):
        document["client_uri"] = config.public_url  # authorization servers show only https sites
    return document
