"""Which client ids are metadata-document URLs (CIMD) rather than registered ids."""

from __future__ import annotations

import pytest

from oauth.client_metadata_documents import is_metadata_document_client_id


@pytest.mark.parametrize(
    ("client_id", "is_url"),
    [
        ("https://claude.ai/oauth/mcp-oauth-client-metadata", True),
        ("https://app.example.com/client.json", True),
        ("https://app.example.com", False),
        ("https://app.example.com/", False),
        ("http://app.example.com/client.json", False),
        ("Z3mN0u1aVvT4yWq", False),
        ("", False),
        (None, False),
    ],
)
def test_an_https_url_with_a_path_is_a_metadata_document_client_id(client_id: str | None, is_url: bool) -> None:
    """Spec-derived (CIMD draft §3: https scheme and a path component)."""
    assert is_metadata_document_client_id(client_id) is is_url
