"""Table ``upstream_oauth_clients``: Portico's own client registrations at upstream authorization servers.

One row per (authorization server ``issuer``, ``redirect_uri``): the client Portico registered for
itself by RFC 7591 when a server is configured with ``credentials: {type: oauth, discover: true}``.
``secret_ciphertext`` is the client secret sealed (:class:`~app.crypto.Sealer`) to
``upstream-client|<issuer>|<redirect_uri>`` (None for a public client). Nothing here decrypts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import Base, UtcDateTime


class UpstreamOAuthClientRow(Base):
    __tablename__ = "upstream_oauth_clients"

    issuer: Mapped[str] = mapped_column(String(1024), primary_key=True)
    redirect_uri: Mapped[str] = mapped_column(String(1024), primary_key=True)
    client_id: Mapped[str] = mapped_column(Text())
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(32))
    secret_ciphertext: Mapped[str | None] = mapped_column(Text(), nullable=True)
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime())


def find_upstream_client(db: Session, *, issuer: str, redirect_uri: str) -> UpstreamOAuthClientRow | None:
    return db.get(UpstreamOAuthClientRow, (issuer, redirect_uri))


def put_upstream_client(db: Session, row: UpstreamOAuthClientRow) -> None:
    """Insert or replace the registration for (issuer, redirect_uri)."""
    db.merge(row)
    db.flush()
