"""The one error this package raises (draft-ietf-oauth-client-id-metadata-document-00 §4.3)."""

from __future__ import annotations


class ClientMetadataDocumentError(Exception):
    """A client ID metadata document could not be fetched, or was fetched and is not acceptable.

    ``reason`` is short and safe to show or log: it names the rule that failed (a field name, an
    HTTP status number, "timed out") and never contains the response body or any value taken
    from it. The authorization server SHOULD abort the authorization request on this error
    (draft-ietf-oauth-client-id-metadata-document-00 §4.3) and render an error page rather than
    redirect, since the redirect URIs could not be established.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
