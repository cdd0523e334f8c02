"""Table ``refresh_tokens``: opaque refresh tokens, rotated on every use (OAuth 2.1 §4.3.1).

Only the token's HMAC hash is stored. Every token descends from one authorization code; they
share ``family_id`` (the code's id) and each names the token it was rotated from (``parent_id``).
A token is used once (``used_at``); presenting a used one is treated as theft and revokes the whole
family (``revoked_at``), its newest member included — except once inside the reuse grace window
(``reused_at``: when the spent token bought its one extra pair; :mod:`oauth.grants.refresh_token`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CursorResult, String, Text, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import Base, UtcDateTime
from oauth.store.clients import CLIENT_ID_MAX_LENGTH


class RefreshTokenRow(Base):
    __tablename__ = "refresh_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family_id: Mapped[str] = mapped_column(String(32), index=True)
    parent_id: Mapped[str | None] = mapped_column(String(32), index=True, nullable=True)
    client_id: Mapped[str] = mapped_column(String(CLIENT_ID_MAX_LENGTH), index=True)
    subject: Mapped[str] = mapped_column(String(255), index=True)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    scope: Mapped[str] = mapped_column(Text)
    resource: Mapped[str] = mapped_column(String(CLIENT_ID_MAX_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    reused_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    # Authlib's TokenMixin (refresh grant, revocation)
    def check_client(self, client: object) -> bool:
        return getattr(client, "client_id", None) == self.client_id

    def get_scope(self) -> str:
        return self.scope


def add_refresh_token(db: Session, row: RefreshTokenRow) -> None:
    db.add(row)
    db.flush()


def find_refresh_token(db: Session, hashes: list[str]) -> RefreshTokenRow | None:
    """The refresh token whose hash is one of ``hashes``, in whatever state."""
    return db.scalars(select(RefreshTokenRow).where(RefreshTokenRow.token_hash.in_(hashes))).first()


def claim_refresh_token(db: Session, token_id: str, now: datetime) -> bool:
    """Mark the token used; True only for the one caller that found it unused and unrevoked (atomic)."""
    statement = (
        update(RefreshTokenRow)
        .where(RefreshTokenRow.id == token_id, RefreshTokenRow.used_at.is_(None), RefreshTokenRow.revoked_at.is_(None))
        .values(used_at=now)
    )
    result = db.execute(statement)
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


def claim_reuse(db: Session, token_id: str, now: datetime) -> bool:
    """Mark the spent token's one graced reuse; True only for the one caller that found it unmarked (atomic)."""
    statement = (
        update(RefreshTokenRow)
        .where(
            RefreshTokenRow.id == token_id, RefreshTokenRow.reused_at.is_(None), RefreshTokenRow.revoked_at.is_(None)
        )
        .values(reused_at=now)
    )
    result = db.execute(statement)
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


def a_child_was_used(db: Session, token_id: str) -> bool:
    """Whether a token rotated from ``token_id`` has itself been presented (its holder moved on)."""
    children = select(RefreshTokenRow.id).where(RefreshTokenRow.parent_id == token_id)
    query = children.where(RefreshTokenRow.used_at.is_not(None))
    return db.scalars(query.limit(1)).first() is not None


def revoke_unused_siblings(db: Session, row: RefreshTokenRow, now: datetime) -> list[str]:
    """Revoke the other unused tokens rotated from ``row``'s parent (the branch the client kept wins); their ids."""
    if row.parent_id is None:
        return []
    siblings = select(RefreshTokenRow.id).where(
        RefreshTokenRow.parent_id == row.parent_id,
        RefreshTokenRow.id != row.id,
        RefreshTokenRow.used_at.is_(None),
        RefreshTokenRow.revoked_at.is_(None),
    )
    ids = list(db.scalars(siblings))
    if ids:
        db.execute(update(RefreshTokenRow).where(RefreshTokenRow.id.in_(ids)).values(revoked_at=now))
    return ids


def revoke_family(db: Session, family_id: str, now: datetime) -> int:
    """Revoke the family's refresh tokens not revoked yet; returns how many."""
    statement = (
        update(RefreshTokenRow)
        .where(RefreshTokenRow.family_id == family_id, RefreshTokenRow.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    result = db.execute(statement)
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


def families_of_subject(db: Session, subject: str, *, client_id: str | None = None) -> list[str]:
    """The families of a user's refresh tokens, optionally only those of one client."""
    query = select(RefreshTokenRow.family_id).where(RefreshTokenRow.subject == subject)
    if client_id is not None:
        query = query.where(RefreshTokenRow.client_id == client_id)
    return list(db.scalars(query.distinct()))


def delete_refresh_tokens_expired_before(db: Session, cutoff: datetime) -> None:
    db.execute(delete(RefreshTokenRow).where(RefreshTokenRow.expires_at < cutoff))


def delete_client_refresh_tokens(db: Session, client_ids: list[str]) -> None:
    db.execute(delete(RefreshTokenRow).where(RefreshTokenRow.client_id.in_(client_ids)))
