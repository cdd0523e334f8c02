"""Clients identified by a URL: Client ID Metadata Documents (MCP 2025-11-25 §Client ID Metadata Documents).

The fetcher lives in ``oauth.cimd``; the authorization server depends only on the two protocols
below. ``create_app`` puts an ``oauth.cimd.ClientMetadataResolver`` in :data:`METADATA_DOCUMENTS`
(see :func:`build_metadata_documents`); without one, URL client ids are unknown clients. Documents
are resolved on the event loop *before* the authorization server runs, so no network I/O happens
inside a database transaction.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterable
from typing import Protocol

import httpx2
from fastapi import Request

from app.config.schema import ClientMetadataDocumentsConfig
from app.slots import Slot
from oauth.cimd import ClientMetadataResolver, is_client_id_url

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
    return bool(client_id) and is_client_id_url(client_id or "")


METADATA_DOCUMENTS: Slot[MetadataDocuments] = Slot("metadata_documents")
"""The app's document resolver (put by ``app.main.create_app`` when documents are enabled)."""


def metadata_documents(request: Request) -> MetadataDocuments | None:
    """The configured resolver, or None (CIMD clients are then unknown)."""
    return METADATA_DOCUMENTS.find(request)


async def resolve_documents(
    resolver: MetadataDocuments | None, client_ids: Iterable[str | None]
) -> dict[str, MetadataDocument]:
    """Resolve every metadata-document client id among ``client_ids``; failures are left out.

    A client whose document cannot be fetched or is invalid is then simply unknown to the
    authorization server, which refuses it (the draft's SHOULD: abort the authorization).
    """
    documents: dict[str, MetadataDocument] = {}
    for client_id in client_ids:
        # Any URL: the resolver decides (its allow-listed test hosts may use http).
        if resolver is None or client_id is None or "://" not in client_id:
            continue
        try:
            documents[client_id] = await resolver.resolve(client_id)
        except Exception as error:  # noqa: BLE001 - oauth.cimd's ClientMetadataDocumentError, or any failure
            log.warning("client metadata document refused: %s", getattr(error, "reason", type(error).__name__))
    return documents


def build_metadata_documents(config: ClientMetadataDocumentsConfig) -> ClientMetadataResolver | None:
    """The resolver configured by ``oauth.client_metadata_documents`` (None when disabled)."""
    if not config.enabled:
        return None
    verify = ssl.create_default_context(cafile=str(config.ca_file)) if config.ca_file else True
    http = httpx2.AsyncClient(follow_redirects=False, trust_env=False, verify=verify)
    return ClientMetadataResolver(http, allow_hosts=frozenset(config.allow_hosts))
