"""``oauth``: the authorization server's token lifetimes and client registration policy.

See docs/configuration.md §``oauth``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from app.config.strict import Strict

__all__ = ["ClientMetadataDocumentsConfig", "OAuthConfig"]


class ClientMetadataDocumentsConfig(Strict):
    """``oauth.client_metadata_documents``: fetching Client ID Metadata Documents.

    Those are the clients whose ``client_id`` is an https URL.

    See docs/configuration.md §``oauth``.
    """

    enabled: bool = True
    # Hosts exempt from the SSRF address check (and allowed over http): internal or test hosts only.
    allow_hosts: list[str] = Field(default_factory=list)
    # Extra CA bundle for fetching documents from hosts with a private CA.
    ca_file: Path | None = None


class OAuthConfig(Strict):
    """``oauth``: the authorization server's lifetimes (seconds) and registration policy.

    See docs/configuration.md §``oauth``.
    """

    access_token_lifetime: int = Field(default=3600, gt=0)
    refresh_token_lifetime: int = Field(default=30 * 24 * 3600, gt=0)
    # Seconds a just-rotated refresh token may be presented again (concurrent refreshes); 0 = never.
    refresh_token_reuse_grace: int = Field(default=10, ge=0, le=60)
    authorization_code_lifetime: int = Field(default=60, gt=0, le=600)
    allowed_redirect_uris: list[str] = Field(default_factory=list)
    client_idle_days: int = Field(default=90, gt=0)
    registrations_per_minute: int = Field(default=20, gt=0)
    client_metadata_documents: ClientMetadataDocumentsConfig = Field(default_factory=ClientMetadataDocumentsConfig)
