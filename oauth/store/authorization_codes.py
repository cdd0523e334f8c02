"""Table ``authorization_codes``: single-use codes (RFC 6749 §4.1.2, OAuth 2.1 §4.1.3).

Only the code's HMAC hash is stored. A code is bound to client, redirect URI, PKCE challenge,
resource, scope and user. Redeeming marks it used (``used_at``) instead of deleting it, so a
replay is recognised and the tokens issued from it (family ``id``) can be revoked. Rows are
purged a day after expiry.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CursorResult, String, Text, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import Base, UtcDateTime
from oauth.store.clients import CLIENT_ID_MAX_LENGTH


class AuthorizationCodeRow(Base):
    __tablename__ = "authorization_codes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(String(CLIENT_ID_MAX_LENGTH), index=True)
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    resource: Mapped[str] = mapped_column(String(CLIENT_ID_MAX_LENGTH))
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    # Authlib's AuthorizationCodeMixin
    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


def add_code(db: Session, row: AuthorizationCodeRow) -> None:
    db.add(row)
    db.flush()


def find_code(db: Session, hashes: list[str]) -> AuthorizationCodeRow | None:
    """The code whose hash is one of ``hashes`` (one per key of the ring), used or not."""
    return db.scalars(select(AuthorizationCodeRow).where(AuthorizationCodeRow.code_hash.in_(hashes))).first()


def claim_code(db: Session, code_id: str, now: datetime) -> bool:
    """Mark the code used; True only for the one caller that found it unused (atomic)."""
    statement = (
        update(AuthorizationCodeRow)
        .where(AuthorizationCodeRow.id == code_id, AuthorizationCodeRow.used_at.is_(None))
        .values(used_at=now)
    )
    result = db.execute(statement)
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


def delete_codes_expired_before(db: Session, cutoff: datetime) -> None:
    db.execute(delete(AuthorizationCodeRow).where(AuthorizationCodeRow.expires_at < cutoff))


def delete_client_codes(db: Session, client_ids: list[str]) -> None:
    db.execute(delete(AuthorizationCodeRow).where(AuthorizationCodeRow.client_id.in_(client_ids)))
