"""Tool-definition pinning (issue #16; ADR 0015).

- ``tool_definitions``: one row per (server, tool, definition hash) with the canonical definition,
  when it was first and last seen, and when and how it was approved (``first_use`` | ``admin``).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.db import UtcDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tool_definitions",
        sa.Column("server", sa.String(63), nullable=False),
        sa.Column("tool", sa.String(255), nullable=False),
        sa.Column("definition_hash", sa.String(64), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("first_seen_at", UtcDateTime(), nullable=False),
        sa.Column("last_seen_at", UtcDateTime(), nullable=False),
        sa.Column("approved_at", UtcDateTime(), nullable=True),
        sa.Column("approved_by", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("server", "tool", "definition_hash", name=op.f("pk_tool_definitions")),
    )


def downgrade() -> None:
    op.drop_table("tool_definitions")
