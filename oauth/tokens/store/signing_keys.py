"""Table ``signing_keys``: ES256 JWT signing keys, private part encrypted at rest."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import Base, UtcDateTime


class SigningKeyRow(Base):
    """One signing key. ``retired_at`` set: no longer signs; still published until ``publish_until``."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    private_jwk_encrypted: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    publish_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


def published_keys(db: Session, now: datetime) -> list[SigningKeyRow]:
    """Active keys and retired keys whose tokens may still be unexpired, newest first."""
    rows = db.scalars(select(SigningKeyRow).order_by(SigningKeyRow.created_at.desc())).all()
    return [r for r in rows if r.publish_until is None or r.publish_until > now]


def active_key(db: Session) -> SigningKeyRow | None:
    """The newest key that has not been retired."""
    query = select(SigningKeyRow).where(SigningKeyRow.retired_at.is_(None)).order_by(SigningKeyRow.created_at.desc())
    return db.scalars(query.limit(1)).first()
