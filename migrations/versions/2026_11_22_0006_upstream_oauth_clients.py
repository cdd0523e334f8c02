"""Portico's client registrations at upstream authorization servers (RFC 7591).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.db import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upstream_oauth_clients",
        sa.Column("issuer", sa.String(1024), nullable=False),
        sa.Column("redirect_uri", sa.String(1024), nullable=False),
        sa.Column("client_id", sa.Text(), nullable=False),
        sa.Column("token_endpoint_auth_method", sa.String(32), nullable=False),
        sa.Column("secret_ciphertext", sa.Text(), nullable=True),
        sa.Column("registered_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("issuer", "redirect_uri", name=op.f("pk_upstream_oauth_clients")),
    )


def downgrade() -> None:
    op.drop_table("upstream_oauth_clients")
