"""Table ``issued_access_tokens``: the ``jti`` of every access token, with the grant it came from.

Access tokens are self-contained JWTs; this table exists so that a replayed authorization code,
a refresh-token replay or a revocation can revoke the access tokens of that grant (``family_id``)
and so that introspection reports them inactive. ``refresh_token_id`` is the refresh token minted
together with it, so that revoking one refresh token (an unused sibling in the reuse grace window)
revokes its access token too. Revoked ``jti`` values are also loaded into
:class:`oauth.tokens.revocation_list.RevokedTokens` at startup, and every revocation is appended to
``revocation_events`` for the other running processes. Rows are purged after expiry.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import ColumnElement, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import Base, UtcDateTime
from oauth.store.clients import CLIENT_ID_MAX_LENGTH
from oauth.store.revocation_events import record_revocations


class IssuedAccessTokenRow(Base):
    __tablename__ = "issued_access_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    family_id: Mapped[str] = mapped_column(String(32), index=True)
    # NULL for rows issued before revision 0008.
    refresh_token_id: Mapped[str | None] = mapped_column(String(32), index=True, nullable=True)
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
    return _revoke(db, IssuedAccessTokenRow.family_id == family_id, now)


def revoke_access_tokens_of(
    db: Session, refresh_token_ids: Collection[str], now: datetime
) -> list[IssuedAccessTokenRow]:
    """Revoke the unexpired access tokens minted together with these refresh tokens; return them."""
    if not refresh_token_ids:
        return []
    return _revoke(db, IssuedAccessTokenRow.refresh_token_id.in_(refresh_token_ids), now)


def revoke_subject_access_tokens(db: Session, subject: str, now: datetime) -> list[IssuedAccessTokenRow]:
    """Revoke every live access token of a user; return them."""
    return _revoke(db, IssuedAccessTokenRow.subject == subject, now)


def revoke_access_token(db: Session, jti: str, now: datetime) -> list[IssuedAccessTokenRow]:
    """Revoke one access token (if unexpired and not yet revoked); return it."""
    return _revoke(db, IssuedAccessTokenRow.jti == jti, now)


def _revoke(db: Session, which: ColumnElement[bool], now: datetime) -> list[IssuedAccessTokenRow]:
    """Mark the matching live tokens revoked and append them to ``revocation_events``, in ``db``'s transaction."""
    query = select(IssuedAccessTokenRow).where(
        which, IssuedAccessTokenRow.revoked_at.is_(None), IssuedAccessTokenRow.expires_at > now
    )
    rows = list(db.scalars(query))
    for row in rows:
        row.revoked_at = now
    db.flush()
    record_revocations(db, [(row.jti, row.expires_at) for row in rows], now)
    return rows


def revoked_unexpired(db: Session, now: datetime) -> list[IssuedAccessTokenRow]:
    """Revoked tokens that would otherwise still be valid (to reload the in-process revocation list)."""
    query = select(IssuedAccessTokenRow).where(
        IssuedAccessTokenRow.revoked_at.is_not(None), IssuedAccessTokenRow.expires_at > now
    )
    return list(db.scalars(query))


def delete_access_tokens_expired_before(db: Session, cutoff: datetime) -> None:
    db.execute(delete(IssuedAccessTokenRow).where(IssuedAccessTokenRow.expires_at < cutoff))
