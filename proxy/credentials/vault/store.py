"""Table ``upstream_credentials``: a user's own credential for one upstream server, encrypted.

One row per (subject, server). ``ciphertext`` is a value sealed by :class:`~app.crypto.Sealer` to
the associated data ``user:<subject>|server:<server>|kind:<kind>`` (see
:mod:`proxy.credentials.vault`), so a row copied to another user, server or kind does not decrypt.
Nothing here decrypts; nothing here is ever logged or returned by an API.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import Base, UtcDateTime


class UpstreamCredentialRow(Base):
    __tablename__ = "upstream_credentials"

    subject: Mapped[str] = mapped_column(String(255), primary_key=True)
    server: Mapped[str] = mapped_column(String(63), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    ciphertext: Mapped[str] = mapped_column(Text())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


def find_credential(db: Session, *, subject: str, server: str) -> UpstreamCredentialRow | None:
    return db.get(UpstreamCredentialRow, (subject, server))


def credentials_of(db: Session, subject: str) -> list[UpstreamCredentialRow]:
    query = select(UpstreamCredentialRow).where(UpstreamCredentialRow.subject == subject)
    return list(db.scalars(query))


def put_credential(
    db: Session, *, subject: str, server: str, kind: str, ciphertext: str, now: datetime, expires_at: datetime | None
) -> None:
    """Insert or replace the (subject, server) row."""
    row = find_credential(db, subject=subject, server=server)
    if row is None:
        row = UpstreamCredentialRow(subject=subject, server=server, created_at=now)
        db.add(row)
    row.kind, row.ciphertext, row.updated_at, row.expires_at = kind, ciphertext, now, expires_at
    db.flush()


def delete_credential(db: Session, *, subject: str, server: str) -> bool:
    """Delete the (subject, server) row; True when there was one."""
    result = db.execute(
        delete(UpstreamCredentialRow).where(
            UpstreamCredentialRow.subject == subject, UpstreamCredentialRow.server == server
        )
    )
    return int(getattr(result, "rowcount", 0)) > 0
