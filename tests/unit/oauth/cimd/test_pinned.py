"""The shipped copies of Claude's metadata documents."""

from __future__ import annotations

import json
from importlib.resources import files

from oauth.cimd.pinned import PINNED_FILES, pinned_documents

CLAUDE = "https://claude.ai/oauth/mcp-oauth-client-metadata"
CLAUDE_CODE = "https://claude.ai/oauth/claude-code-client-metadata"


def test_both_claude_documents_are_pinned_and_validate() -> None:
    documents = pinned_documents()
    assert set(documents) == {CLAUDE, CLAUDE_CODE}
    assert all(document.pinned and document.host == "claude.ai" for document in documents.values())


def test_claude_web_document_has_the_claude_callback_and_no_secret() -> None:
    document = pinned_documents()[CLAUDE]
    assert document.client_name == "Claude"
    assert document.redirect_uris == ("https://claude.ai/api/mcp/auth_callback",)
    assert document.grant_types == ("authorization_code", "refresh_token")
    assert document.token_endpoint_auth_method == "none"


def test_claude_code_document_has_portless_loopback_callbacks() -> None:
    """Claude Code picks a port at run time; the authorization server matches loopback port-agnostically."""
    document = pinned_documents()[CLAUDE_CODE]
    assert document.client_name == "Claude Code"
    assert document.redirect_uris == ("http://localhost/callback", "http://127.0.0.1/callback")


def test_every_pinned_file_is_listed_and_stays_under_the_fetch_size_cap() -> None:
    names = {entry.name for entry in files("oauth.cimd").joinpath("pinned").iterdir() if entry.name.endswith(".json")}
    assert names == set(PINNED_FILES.values())
    for name in names:
        body = files("oauth.cimd").joinpath("pinned", name).read_bytes()
        assert len(body) <= 5 * 1024
        assert "client_secret" not in json.loads(body)
