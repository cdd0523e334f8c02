"""Refresh tokens: the token each one was rotated from (``parent_id``), for the reuse grace window.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL parent: issued from an authorization code (every row issued before this revision counts as such).
    with op.batch_alter_table("refresh_tokens") as batch:
        batch.add_column(sa.Column("parent_id", sa.String(32), nullable=True))
        batch.create_index(batch.f("ix_refresh_tokens_parent_id"), ["parent_id"])


def downgrade() -> None:
    with op.batch_alter_table("refresh_tokens") as batch:
        batch.drop_index(batch.f("ix_refresh_tokens_parent_id"))
        batch.drop_column("parent_id")
