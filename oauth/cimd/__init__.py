"""Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document-00) for the AS.

A client may use an ``https`` URL as its ``client_id``; the authorization server fetches the
JSON document at that URL and treats its RFC 7591 client metadata as the client's registration.
"""

from oauth.cimd.client_id_url import is_client_id_url
from oauth.cimd.document import ClientMetadataDocument
from oauth.cimd.errors import ClientMetadataDocumentError
from oauth.cimd.resolver import ClientMetadataResolver

__all__ = [
    "ClientMetadataDocument",
    "ClientMetadataDocumentError",
    "ClientMetadataResolver",
    "is_client_id_url",
]
