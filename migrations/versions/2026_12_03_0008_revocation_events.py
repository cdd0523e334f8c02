"""Revocation events and per-refresh-token access tokens (issue #15, findings 1 and 8; ADR 0009).

- ``revocation_events``: the append-only log of revoked access tokens other processes poll or are
  notified of.
- ``issued_access_tokens.refresh_token_id``: the refresh token minted with the access token, so
  revoking a dropped sibling revokes its access token.
- ``refresh_tokens.reused_at``: the one graced reuse of a spent refresh token.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.db import UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "revocation_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("jti", sa.String(64), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_revocation_events_expires_at"), "revocation_events", ["expires_at"])
    # NULL: issued before this revision (revoked with its family only, as before).
    with op.batch_alter_table("issued_access_tokens") as batch:
        batch.add_column(sa.Column("refresh_token_id", sa.String(32), nullable=True))
        batch.create_index(batch.f("ix_issued_access_tokens_refresh_token_id"), ["refresh_token_id"])
    with op.batch_alter_table("refresh_tokens") as batch:
        batch.add_column(sa.Column("reused_at", UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("refresh_tokens") as batch:
        batch.drop_column("reused_at")
    with op.batch_alter_table("issued_access_tokens") as batch:
        batch.drop_index(batch.f("ix_issued_access_tokens_refresh_token_id"))
        batch.drop_column("refresh_token_id")
    op.drop_index(op.f("ix_revocation_events_expires_at"), table_name="revocation_events")
    op.drop_table("revocation_events")
