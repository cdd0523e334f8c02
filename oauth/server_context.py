"""What one call into the (synchronous) authorization server works with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from app.observe.records import AuthEvent
from oauth.client_metadata_documents import MetadataDocument
from oauth.clients import OAuthClient, load_client
from oauth.tokens.context import TokenContext


@dataclass(frozen=True)
class GrantUser:
    """The resource owner a code or token is issued for (``sub`` and ``email`` of the access token)."""

    subject: str
    email: str | None


@dataclass
class ServerContext:
    """One database transaction on a worker thread, the time of the request, resolved documents."""

    runtime: TokenContext
    db: Session
    now: datetime
    documents: Mapping[str, MetadataDocument] = field(default_factory=dict)
    events: list[AuthEvent] = field(default_factory=list)
    """Authorization events of this call, published by ``call_server`` once the transaction committed."""

    @property
    def issuer(self) -> str:
        return self.runtime.config.public_url

    def client(self, client_id: str | None) -> OAuthClient | None:
        return load_client(
            self.db,
            client_id,
            documents=self.documents,
            keyring=self.runtime.keyring,
            allowed_redirect_patterns=self.runtime.config.oauth.allowed_redirect_uris,
        )
