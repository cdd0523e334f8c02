"""The resolver tells its owner once per client when it first fetches a valid document (the audit
trail records it as ``client_registered``, ``registration: metadata_document``)."""

from __future__ import annotations

import pytest

from oauth.cimd import ClientMetadataDocument, ClientMetadataDocumentError, ClientMetadataResolver
from tests.integration.oauth.cimd.conftest import ManualClock
from tests.integration.oauth.cimd.document_server import DocumentServer

pytestmark = pytest.mark.anyio


async def test_a_client_is_reported_once_when_first_seen_not_on_refetch(
    server: DocumentServer, resolver: ClientMetadataResolver, monotonic_clock: ManualClock
) -> None:
    seen: list[ClientMetadataDocument] = []
    resolver.on_first_seen = seen.append
    url = server.serve_valid("/client.json", client_name="Example App")
    other = server.serve_valid("/other.json", client_name="Other App")
    await resolver.resolve(url)
    await resolver.resolve(url)  # cached
    monotonic_clock.advance(2 * 86400)
    await resolver.resolve(url)  # fetched again: not new
    await resolver.resolve(other)
    assert server.hits["/client.json"] == 2
    assert [(document.client_id, document.client_name) for document in seen] == [
        (url, "Example App"),
        (other, "Other App"),
    ]


async def test_an_invalid_document_is_not_reported(server: DocumentServer, resolver: ClientMetadataResolver) -> None:
    seen: list[ClientMetadataDocument] = []
    resolver.on_first_seen = seen.append
    url = server.serve_valid("/client.json", redirect_uris=[])
    with pytest.raises(ClientMetadataDocumentError):
        await resolver.resolve(url)
    assert seen == []
