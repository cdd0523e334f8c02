"""Table ``login_sessions``: the server-side half of each browser login session.

The cookie carries the state (user, issued-at, last-seen); the row only says the session is
still live, so that signing out or disabling a user ends it even if a copy of the cookie
survives. Rows are deleted at sign-out and purged once past ``expires_at`` (absolute timeout).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import Base, UtcDateTime
from oauth.login.store.users import UserRow


class LoginSessionRow(Base):
    """A live login session; ``id`` is the cookie's random ``login_session_id``."""

    __tablename__ = "login_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


def add_login_session(db: Session, *, login_session_id: str, user_id: int, now: datetime, expires_at: datetime) -> None:
    """Record a new live session."""
    db.add(LoginSessionRow(id=login_session_id, user_id=user_id, created_at=now, expires_at=expires_at))
    db.flush()


def live_session_user(db: Session, *, login_session_id: str, user_id: int, now: datetime) -> UserRow | None:
    """The user of a live, unexpired session, or None (ended, expired, or the user is gone)."""
    query = (
        select(UserRow)
        .join(LoginSessionRow, LoginSessionRow.user_id == UserRow.id)
        .where(
            LoginSessionRow.id == login_session_id,
            LoginSessionRow.user_id == user_id,
            LoginSessionRow.expires_at > now,
        )
    )
    return db.scalars(query).first()


def end_login_session(db: Session, login_session_id: str) -> None:
    """Delete one session (idempotent)."""
    db.execute(delete(LoginSessionRow).where(LoginSessionRow.id == login_session_id))


def end_user_sessions(db: Session, user_id: int) -> int:
    """Delete every session of a user; returns how many there were."""
    result = db.execute(delete(LoginSessionRow).where(LoginSessionRow.user_id == user_id))
    return int(getattr(result, "rowcount", 0) or 0)


def purge_expired_sessions(db: Session, now: datetime) -> None:
    """Delete sessions past their absolute timeout."""
    db.execute(delete(LoginSessionRow).where(LoginSessionRow.expires_at <= now))
