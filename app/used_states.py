"""Table ``used_states``: ids of single-use signed state values already spent (the consent form).

A state value is accepted once: its id is inserted here when it is used, and a second insert of
the same id is refused. Rows are purged once the state value itself has expired.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, delete
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import Base, UtcDateTime
from app.upsert import insert_if_absent


class UsedStateRow(Base):
    __tablename__ = "used_states"

    state_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


def spend_state(db: Session, state_id: str, expires_at: datetime) -> bool:
    """Record ``state_id`` as used; False when it already was (a replay)."""
    table = UsedStateRow.__table__
    return insert_if_absent(db, table, {"state_id": state_id, "expires_at": expires_at})  # type: ignore[arg-type]


def delete_states_expired_before(db: Session, cutoff: datetime) -> None:
    db.execute(delete(UsedStateRow).where(UsedStateRow.expires_at < cutoff))
