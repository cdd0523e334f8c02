"""The audit trail (issue #18; ADR 0018).

- ``audit_events``: one row per MCP request through the gateway or authorization event, indexed
  for ``portico audit`` (time; subject, email, server, target and kind each with time).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.db import UtcDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False, autoincrement=True),
        sa.Column("time", UtcDateTime(), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(255), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("client_id", sa.String(2048), nullable=True),
        sa.Column("server", sa.String(63), nullable=True),
        sa.Column("member", sa.String(63), nullable=True),
        sa.Column("method", sa.String(255), nullable=True),
        sa.Column("target", sa.String(2048), nullable=True),
        sa.Column("transport", sa.String(32), nullable=True),
        sa.Column("mcp_session_id", sa.String(255), nullable=True),
        sa.Column("policy", sa.String(16), nullable=True),
        sa.Column("policy_rule", sa.String(255), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("upstream_ms", sa.Float(), nullable=True),
        sa.Column("bytes_in", sa.BigInteger(), nullable=True),
        sa.Column("bytes_out", sa.BigInteger(), nullable=True),
        sa.Column("client_address", sa.String(64), nullable=True),
        sa.Column("era", sa.String(32), nullable=True),
        sa.Column("reason", sa.String(255), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("arguments", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index("ix_audit_events_time", "audit_events", ["time"])
    for column in ("subject", "email", "server", "target", "kind"):
        op.create_index(f"ix_audit_events_{column}_time", "audit_events", [column, "time"])


def downgrade() -> None:
    op.drop_table("audit_events")
