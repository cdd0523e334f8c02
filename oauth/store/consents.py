"""Table ``consents``: which user approved which client for which protected resource.

One row per (subject, client_id, resource), written when the user presses Approve on the
consent page; while it exists the page is skipped for that triple. Deleting it (revocation)
brings the page back.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import Base, UtcDateTime
from oauth.store.clients import CLIENT_ID_MAX_LENGTH


class ConsentRow(Base):
    __tablename__ = "consents"

    subject: Mapped[str] = mapped_column(String(255), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(CLIENT_ID_MAX_LENGTH), primary_key=True)
    resource: Mapped[str] = mapped_column(String(CLIENT_ID_MAX_LENGTH), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime())


def find_consent(db: Session, *, subject: str, client_id: str, resource: str) -> ConsentRow | None:
    return db.get(ConsentRow, (subject, client_id, resource))


def save_consent(db: Session, *, subject: str, client_id: str, resource: str, now: datetime) -> None:
    row = find_consent(db, subject=subject, client_id=client_id, resource=resource)
    if row is None:
        db.add(ConsentRow(subject=subject, client_id=client_id, resource=resource, granted_at=now))
    else:
        row.granted_at = now
    db.flush()


def consents_of(db: Session, subject: str) -> list[ConsentRow]:
    query = select(ConsentRow).where(ConsentRow.subject == subject).order_by(ConsentRow.granted_at.desc())
    return list(db.scalars(query))


def delete_consents(db: Session, *, subject: str | None = None, client_ids: list[str] | None = None) -> int:
    """Delete the consents of a subject, of some clients, or of a subject for some clients."""
    statement = delete(ConsentRow)
    if subject is not None:
        statement = statement.where(ConsentRow.subject == subject)
    if client_ids is not None:
        statement = statement.where(ConsentRow.client_id.in_(client_ids))
    result = db.execute(statement)
    return int(getattr(result, "rowcount", 0))
