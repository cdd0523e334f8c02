"""Table ``revocation_events``: an append-only log of access-token revocations, for other processes.

Every revocation of an access token before its expiry appends ``(jti, expires_at)`` here in the
revoking transaction, whichever process revokes (a ``/token`` replay, ``/revoke``, consent
revocation, ``portico users disable`` run as its own process). Running Portico processes learn of
it through a revocation-event source (:mod:`oauth.revocation_events`, ADR 0009): they poll this log
by its increasing ``id`` (SQLite) or receive a PostgreSQL ``NOTIFY`` on :data:`NOTIFY_CHANNEL` sent
in the same transaction (delivered on commit, never for a rolled-back one). Rows are purged once
the token has expired.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Integer, String, delete, func, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import Base, UtcDateTime

NOTIFY_CHANNEL = "portico_revocations"
# PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; stay well below.
_NOTIFY_PAYLOAD_LIMIT = 7000

Revocation = tuple[str, int]
"""A revoked access token: its ``jti`` and its ``exp`` (epoch seconds)."""


class RevocationEventRow(Base):
    __tablename__ = "revocation_events"
    # AUTOINCREMENT: SQLite would otherwise reuse the highest id once it is purged, behind a poller's watermark.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    jti: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


def record_revocations(db: Session, revoked: Sequence[tuple[str, datetime]], now: datetime) -> bool:
    """Append ``(jti, expires_at)`` pairs to the log; on PostgreSQL also ``NOTIFY`` them (on commit).

    Returns True when running processes are notified on commit (PostgreSQL), False when they learn
    it by polling the log.
    """
    if not revoked:
        return False
    db.add_all([RevocationEventRow(jti=jti, expires_at=expires_at, created_at=now) for jti, expires_at in revoked])
    db.flush()
    if db.get_bind().dialect.name != "postgresql":
        return False
    for payload in notify_payloads([(jti, int(expires_at.timestamp())) for jti, expires_at in revoked]):
        db.execute(text("SELECT pg_notify(:channel, :payload)"), {"channel": NOTIFY_CHANNEL, "payload": payload})
    return True


def notify_payloads(revoked: Sequence[Revocation]) -> list[str]:
    """JSON arrays of ``[jti, exp]`` pairs, each small enough for one ``NOTIFY``."""
    payloads: list[str] = []
    batch: list[Revocation] = []
    for item in revoked:
        if batch and len(json.dumps([*batch, item])) > _NOTIFY_PAYLOAD_LIMIT:
            payloads.append(json.dumps(batch))
            batch = []
        batch.append(item)
    if batch:
        payloads.append(json.dumps(batch))
    return payloads


def parse_notify_payload(payload: str) -> list[Revocation]:
    """The pairs of one ``NOTIFY`` payload; ValueError when it is not one of ours."""
    pairs = json.loads(payload)
    if not isinstance(pairs, list):
        raise ValueError("not a list")
    return [(str(jti), int(exp)) for jti, exp in pairs]


def latest_event_id(db: Session) -> int:
    """The highest id so far (0 when the log is empty): where a new poller starts."""
    return int(db.scalar(select(func.max(RevocationEventRow.id))) or 0)


def events_after(db: Session, watermark: int, *, limit: int = 1000) -> list[tuple[int, Revocation]]:
    """Up to ``limit`` events with an id above ``watermark``, oldest first: ``(id, (jti, exp))``."""
    query = (
        select(RevocationEventRow.id, RevocationEventRow.jti, RevocationEventRow.expires_at)
        .where(RevocationEventRow.id > watermark)
        .order_by(RevocationEventRow.id)
        .limit(limit)
    )
    return [(row_id, (jti, int(expires_at.timestamp()))) for row_id, jti, expires_at in db.execute(query)]


def delete_events_expired_before(db: Session, cutoff: datetime) -> None:
    db.execute(delete(RevocationEventRow).where(RevocationEventRow.expires_at < cutoff))
