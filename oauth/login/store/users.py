"""Table ``users``: one row per identity an upstream IdP vouched for.

A user is keyed by ``(provider, provider_subject)``: the configured provider id and the subject
that provider gives (for the ``dev`` provider, the email address). ``subject`` is Portico's stable,
opaque subject (the access token's ``sub``): 22 random URL-safe characters for a new user, ``str(id)``
for users created before migration 0009 (their tokens, grants and credentials stay valid).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import Base, UtcDateTime
from app.identifiers import command_line_safe_token


class UserRow(Base):
    """A user. ``email`` is stored lower-cased; ``groups`` and ``orgs`` are JSON lists of names.

    ``domain`` is the domain the IdP vouched for at the last sign-in, matched by
    ``login.allowed_domains``: NULL means the email's domain, ``""`` none (a Google account outside
    Workspace). ``groups`` (IdP groups claim) and ``orgs`` (GitHub organisations) are refreshed at
    every sign-in and re-checked against the rules at every authorization and refresh.
    """

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("provider", "provider_subject"), UniqueConstraint("subject"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(64), default=lambda: new_subject())
    provider: Mapped[str] = mapped_column(String(64))
    provider_subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(320), index=True)
    email_verified: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    groups: Mapped[list[str]] = mapped_column(JSON)
    domain: Mapped[str | None] = mapped_column(String(255), nullable=True)
    orgs: Mapped[list[str]] = mapped_column(JSON, default=list)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    first_sign_in_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_sign_in_at: Mapped[datetime] = mapped_column(UtcDateTime())


def new_subject() -> str:
    """A new user's subject: 128 random bits, URL-safe base64 (22 characters), never sequential.

    It never begins with ``-``, so it can be passed to ``portico`` commands as an argument.
    """
    return command_line_safe_token(16)


def find_by_subject(db: Session, subject: str) -> UserRow | None:
    """The user whose ``sub`` is ``subject``, or None."""
    return db.scalars(select(UserRow).where(UserRow.subject == subject)).first()


def find_user(db: Session, user_id: int) -> UserRow | None:
    """The user with this id, or None."""
    return db.get(UserRow, user_id)


def find_by_provider_subject(db: Session, *, provider: str, provider_subject: str) -> UserRow | None:
    """The user a provider knows as ``provider_subject``, or None."""
    query = select(UserRow).where(UserRow.provider == provider, UserRow.provider_subject == provider_subject)
    return db.scalars(query).first()


def find_by_email(db: Session, email: str) -> list[UserRow]:
    """Every user with this email (case-insensitive), oldest first; several providers may share one."""
    query = select(UserRow).where(UserRow.email == email.lower()).order_by(UserRow.id)
    return list(db.scalars(query).all())


def all_users(db: Session) -> list[UserRow]:
    """Every user, oldest first."""
    return list(db.scalars(select(UserRow).order_by(UserRow.id)).all())
