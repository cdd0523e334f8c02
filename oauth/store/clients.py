"""Table ``oauth_clients``: clients registered dynamically (RFC 7591).

The client secret of a confidential client is stored as an HMAC hash only (see
:mod:`oauth.token_hashing`). ``last_used_at`` drives the deletion of idle registrations (Claude
registers a new client on every fresh connection). Clients identified by a metadata document URL
are not stored here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String, Text, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import Base, UtcDateTime

CLIENT_ID_MAX_LENGTH = 512


class ClientRow(Base):
    __tablename__ = "oauth_clients"

    client_id: Mapped[str] = mapped_column(String(CLIENT_ID_MAX_LENGTH), primary_key=True)
    client_secret_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(32))
    client_name: Mapped[str | None] = mapped_column(Text, nullable=True)
    client_uri: Mapped[str | None] = mapped_column(Text, nullable=True)
    logo_uri: Mapped[str | None] = mapped_column(Text, nullable=True)
    redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    grant_types: Mapped[list[str]] = mapped_column(JSON)
    response_types: Mapped[list[str]] = mapped_column(JSON)
    scope: Mapped[str] = mapped_column(Text)
    application_type: Mapped[str] = mapped_column(String(16))
    client_id_issued_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_used_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


def find_client(db: Session, client_id: str) -> ClientRow | None:
    return db.get(ClientRow, client_id)


def add_client(db: Session, row: ClientRow) -> None:
    db.add(row)
    db.flush()


def touch_client(db: Session, client_id: str, now: datetime) -> None:
    """Record that the client was used (an authorization or a token request)."""
    db.execute(update(ClientRow).where(ClientRow.client_id == client_id).values(last_used_at=now))


def delete_idle_clients(db: Session, unused_since: datetime) -> list[str]:
    """Delete clients not used since ``unused_since``; return their ids."""
    idle = list(db.scalars(select(ClientRow.client_id).where(ClientRow.last_used_at < unused_since)))
    if idle:
        db.execute(delete(ClientRow).where(ClientRow.client_id.in_(idle)))
    return idle
