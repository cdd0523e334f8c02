"""Table ``issued_access_tokens``: the ``jti`` of every access token, with the grant it came from.

Access tokens are self-contained JWTs; this table exists so that a replayed authorization code,
a refresh-token replay or a revocation can revoke the access tokens of that grant (``family_id``)
and so that introspection reports them inactive. Revoked ``jti`` values are also loaded into
:class:`oauth.tokens.access_tokens.RevokedTokens` at startup. Rows are purged after expiry.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import Base, UtcDateTime
from oauth.store.clients import CLIENT_ID_MAX_LENGTH


class IssuedAccessTokenRow(Base):
    __tablename__ = "issued_access_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    family_id: Mapped[str] = mapped_column(String(32), index=True)
    client_id: Mapped[str] = mapped_column(String(CLIENT_ID_MAX_LENGTH))
    subject: Mapped[str] = mapped_column(String(255), index=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


def record_access_token(db: Session, row: IssuedAccessTokenRow) -> None:
    db.add(row)
    db.flush()


def find_access_token(db: Session, jti: str) -> IssuedAccessTokenRow | None:
    return db.get(IssuedAccessTokenRow, jti)


def revoke_access_tokens(db: Session, *, family_id: str, now: datetime) -> list[IssuedAccessTokenRow]:
    """Mark the family's unexpired, unrevoked access tokens revoked; return them."""
    rows = list(
        db.scalars(
            select(IssuedAccessTokenRow).where(
                IssuedAccessTokenRow.family_id == family_id,
                IssuedAccessTokenRow.revoked_at.is_(None),
                IssuedAccessTokenRow.expires_at > now,
            )
        )
    )
    for row in rows:
        row.revoked_at = now
    db.flush()
    return rows


def revoke_access_token(db: Session, jti: str, now: datetime) -> None:
    db.execute(update(IssuedAccessTokenRow).where(IssuedAccessTokenRow.jti == jti).values(revoked_at=now))


def revoked_unexpired(db: Session, now: datetime) -> list[IssuedAccessTokenRow]:
    """Revoked tokens that would otherwise still be valid (to reload the in-process revocation list)."""
    query = select(IssuedAccessTokenRow).where(
        IssuedAccessTokenRow.revoked_at.is_not(None), IssuedAccessTokenRow.expires_at > now
    )
    return list(db.scalars(query))


def delete_access_tokens_expired_before(db: Session, cutoff: datetime) -> None:
    db.execute(delete(IssuedAccessTokenRow).where(IssuedAccessTokenRow.expires_at < cutoff))
