"""Shipped copies of well-known metadata documents, the fallback when the live one cannot be had.

Implementers report that claude.ai answers datacenter fetches of its documents with a Cloudflare
challenge (HTTP 403), so an authorization server in a cloud might never let Claude connect with
its metadata document URL. Treating a few known document URLs as pre-registered is a local trust
decision (draft-ietf-oauth-client-id-metadata-document-00 leaves such policy to the
authorization server). These copies are used only when a fetch fails and no fetched copy is
cached, and they pass the same validation as a fetched document. Provenance: ``pinned/README.md``.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from types import MappingProxyType
from typing import Final

from oauth.cimd.client_id_url import parse_client_id_url
from oauth.cimd.document import ClientMetadataDocument, parse_document
from oauth.cimd.errors import ClientMetadataDocumentError

PINNED_FILES: Final = MappingProxyType(
    {
        "https://claude.ai/oauth/mcp-oauth-client-metadata": "claude-mcp-oauth-client-metadata.json",
        "https://claude.ai/oauth/claude-code-client-metadata": "claude-code-client-metadata.json",
    }
)


@cache
def pinned_documents() -> MappingProxyType[str, ClientMetadataDocument]:
    """Every pinned copy, validated like a fetched document, keyed by its ``client_id`` URL.

    Raises:
        ClientMetadataDocumentError: a shipped copy is invalid (a packaging bug, caught by tests).
    """
    return MappingProxyType({client_id: _load(client_id, name) for client_id, name in PINNED_FILES.items()})


def _load(client_id: str, name: str) -> ClientMetadataDocument:
    target = parse_client_id_url(client_id)
    if target is None:
        raise ClientMetadataDocumentError("pinned client_id is not a metadata document URL")
    body = files("oauth.cimd").joinpath("pinned", name).read_bytes()
    return parse_document(body, client_id=client_id, host=target.host, pinned=True)
