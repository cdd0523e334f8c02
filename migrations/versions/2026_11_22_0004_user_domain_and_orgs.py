"""Users: the domain the IdP vouches for (Google's ``hd``) and GitHub organisations.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL domain: the email's domain (every user signed in before this revision came from ``dev``).
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("domain", sa.String(255), nullable=True))
        batch.add_column(sa.Column("orgs", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("orgs")
        batch.drop_column("domain")
