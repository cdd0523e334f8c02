"""Table ``signing_keys``: ES256 JWT signing keys, private part encrypted at rest."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import Base, UtcDateTime


class SigningKeyRow(Base):
    """One signing key: published from creation, signs from ``activates_at`` (NULL: from creation).

    ``retired_at`` set: signs no longer from then on; still published until ``publish_until``.
    """

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    private_jwk_encrypted: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    publish_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    activates_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    def signs_from(self) -> datetime:
        return self.activates_at or self.created_at


def published_keys(db: Session, now: datetime) -> list[SigningKeyRow]:
    """Active, scheduled and retired keys whose tokens may still be unexpired, newest first."""
    rows = db.scalars(select(SigningKeyRow).order_by(SigningKeyRow.created_at.desc())).all()
    return [r for r in rows if r.publish_until is None or r.publish_until > now]


def unretired_keys(db: Session, now: datetime) -> list[SigningKeyRow]:
    """Keys that sign now or will sign later, in signing order (earliest ``signs_from`` first)."""
    rows = db.scalars(select(SigningKeyRow)).all()
    live = [r for r in rows if r.retired_at is None or r.retired_at > now]
    return sorted(live, key=lambda r: (r.signs_from(), r.created_at))


def active_key(db: Session, now: datetime) -> SigningKeyRow | None:
    """The key that signs at ``now``: the latest unretired one whose ``activates_at`` has come."""
    started = [r for r in unretired_keys(db, now) if r.signs_from() <= now]
    return started[-1] if started else None


def scheduled_key(db: Session, now: datetime) -> SigningKeyRow | None:
    """The key published ahead of its ``activates_at`` (after ``now``), if a rotation is under way."""
    pending = [r for r in unretired_keys(db, now) if r.signs_from() > now]
    return pending[0] if pending else None
