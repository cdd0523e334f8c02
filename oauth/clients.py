"""The client as the authorization server sees it: registered (RFC 7591) or a metadata document.

:class:`OAuthClient` implements Authlib's ``ClientMixin`` by duck typing. Both kinds answer the
same questions: redirect URIs (exact, loopback port-agnostic, and within the administrator's
``oauth.allowed_redirect_uris``), authentication method, grant and response types, scope.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from app.crypto import KeyRing
from app.display_names import neutral_display_name
from oauth.client_metadata_documents import MetadataDocument, is_metadata_document_client_id
from oauth.redirect_uris import allowed_by_patterns, is_loopback_redirect, redirect_uri_matches
from oauth.scopes import granted_scope
from oauth.store.clients import CLIENT_ID_MAX_LENGTH, ClientRow, find_client
from oauth.token_hashing import hash_matches

PUBLIC = "none"
SECRET_METHODS = ("client_secret_basic", "client_secret_post")
GRANT_TYPES = ("authorization_code", "refresh_token")


@dataclass(frozen=True)
class OAuthClient:
    client_id: str
    client_name: str | None
    client_uri: str | None
    redirect_uris: tuple[str, ...]
    token_endpoint_auth_method: str
    allowed_redirect_patterns: tuple[str, ...] = ()
    verified_host: str | None = None
    client_secret_hash: str | None = field(default=None, repr=False)
    keyring: KeyRing | None = field(default=None, repr=False, compare=False)

    @property
    def is_public(self) -> bool:
        return self.token_endpoint_auth_method == PUBLIC

    @property
    def display_name(self) -> str:
        """The name to show; hidden characters of names stored before they were refused become U+FFFD."""
        return neutral_display_name(self.client_name or self.client_id)

    @property
    def localhost_only(self) -> bool:
        """Every redirect URI is loopback: any local program could be receiving the code."""
        return all(is_loopback_redirect(uri) for uri in self.redirect_uris)

    # Authlib ClientMixin
    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        if len(self.redirect_uris) == 1 and not is_loopback_redirect(self.redirect_uris[0]):
            return self.redirect_uris[0]
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        return granted_scope(scope)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        if not allowed_by_patterns(redirect_uri, self.allowed_redirect_patterns):
            return False
        return any(redirect_uri_matches(registered, redirect_uri) for registered in self.redirect_uris)

    def check_client_secret(self, client_secret: str) -> bool:
        if self.client_secret_hash is None or self.keyring is None:
            return False
        return hash_matches(self.keyring, client_secret, self.client_secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == PUBLIC if self.is_public else method in SECRET_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in GRANT_TYPES


def load_client(
    db: Session,
    client_id: str | None,
    *,
    documents: Mapping[str, MetadataDocument],
    keyring: KeyRing,
    allowed_redirect_patterns: Sequence[str] = (),
) -> OAuthClient | None:
    """The client called ``client_id``: a resolved metadata document or a registered client."""
    if not client_id or len(client_id) > CLIENT_ID_MAX_LENGTH:
        return None
    patterns = tuple(allowed_redirect_patterns)
    document = documents.get(client_id)
    if document is not None:
        return client_from_document(document, patterns)
    if is_metadata_document_client_id(client_id):
        return None
    row = find_client(db, client_id)
    return client_from_row(row, keyring, patterns) if row is not None else None


def client_from_row(row: ClientRow, keyring: KeyRing, patterns: tuple[str, ...] = ()) -> OAuthClient:
    return OAuthClient(
        client_id=row.client_id,
        client_name=row.client_name,
        client_uri=row.client_uri,
        redirect_uris=tuple(row.redirect_uris),
        token_endpoint_auth_method=row.token_endpoint_auth_method,
        allowed_redirect_patterns=patterns,
        client_secret_hash=row.client_secret_hash,
        keyring=keyring,
    )


def client_from_document(document: MetadataDocument, patterns: tuple[str, ...] = ()) -> OAuthClient:
    """A metadata-document client: public, its redirect URIs and name from the document."""
    return OAuthClient(
        client_id=document.client_id,
        client_name=document.client_name,
        client_uri=document.client_uri,
        redirect_uris=tuple(document.redirect_uris),
        token_endpoint_auth_method=PUBLIC,
        allowed_redirect_patterns=patterns,
        verified_host=document.host or urlsplit(document.client_id).hostname,
    )
