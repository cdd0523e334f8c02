"""Clients identified by a URL: Client ID Metadata Documents (MCP 2025-11-25 §Client ID Metadata Documents).

The fetcher lives in ``oauth.cimd`` (built separately); the authorization server depends only on
the two protocols below. Wiring point: ``app.state.metadata_documents`` (set it in ``create_app``
to an ``oauth.cimd.ClientMetadataResolver``); while it is unset, URL client ids are unknown
clients. Documents are resolved on the event loop *before* the authorization server runs, so no
network I/O happens inside a database transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Protocol
from urllib.parse import urlsplit

from fastapi import Request

log = logging.getLogger("portico.oauth")


class MetadataDocument(Protocol):
    """What Portico reads from a validated document (``oauth.cimd.ClientMetadataDocument``)."""

    @property
    def client_id(self) -> str: ...
    @property
    def client_name(self) -> str | None: ...
    @property
    def client_uri(self) -> str | None: ...
    @property
    def redirect_uris(self) -> tuple[str, ...]: ...
    @property
    def host(self) -> str: ...


class MetadataDocuments(Protocol):
    async def resolve(self, client_id: str) -> MetadataDocument:
        """The validated document for ``client_id``; raises when it cannot be fetched or is invalid."""
        ...


def is_metadata_document_client_id(client_id: str | None) -> bool:
    """An ``https`` URL with a path is a metadata document URL, not a registered client id."""
    if not client_id or not client_id.startswith("https://"):
        return False
    try:
        return urlsplit(client_id).path not in ("", "/")
    except ValueError:
        return False


def metadata_documents(request: Request) -> MetadataDocuments | None:
    """The configured resolver, or None (CIMD clients are then unknown)."""
    return getattr(request.app.state, "metadata_documents", None)


async def resolve_documents(
    resolver: MetadataDocuments | None, client_ids: Iterable[str | None]
) -> dict[str, MetadataDocument]:
    """Resolve every metadata-document client id among ``client_ids``; failures are left out.

    A client whose document cannot be fetched or is invalid is then simply unknown to the
    authorization server, which refuses it (the draft's SHOULD: abort the authorization).
    """
    documents: dict[str, MetadataDocument] = {}
    for client_id in client_ids:
        if resolver is None or client_id is None or not is_metadata_document_client_id(client_id):
            continue
        try:
            documents[client_id] = await resolver.resolve(client_id)
        except Exception as error:  # noqa: BLE001 - oauth.cimd's ClientMetadataDocumentError, or any failure
            log.warning("client metadata document refused: %s", getattr(error, "reason", type(error).__name__))
    return documents
