"""Opaque user subjects and scheduled signing keys (issue #15, findings 2 and 9; ADR 0008).

- ``users.subject``: the access token's ``sub``, random and URL-safe for new users; existing users
  keep ``str(id)``, so their outstanding tokens, grants, consents and stored credentials (whose
  associated data names the subject) stay valid.
- ``signing_keys.activates_at``: a key made by ``portico keys rotate-signing`` is published in the
  JWKS at once but signs only from this time on (NULL: signs from creation, as before).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.db import UtcDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("subject", sa.String(64), nullable=True))
    op.execute(sa.text("UPDATE users SET subject = CAST(id AS VARCHAR(64))"))
    with op.batch_alter_table("users") as batch:
        batch.alter_column("subject", existing_type=sa.String(64), nullable=False)
        batch.create_unique_constraint(batch.f("uq_users_subject"), ["subject"])
    with op.batch_alter_table("signing_keys") as batch:
        batch.add_column(sa.Column("activates_at", UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("signing_keys") as batch:
        batch.drop_column("activates_at")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(batch.f("uq_users_subject"), type_="unique")
        batch.drop_column("subject")
