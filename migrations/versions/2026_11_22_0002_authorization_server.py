"""Authorization server: clients, authorization codes, refresh tokens, issued access tokens, consents, used states.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.db import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

CLIENT_ID = 512


def upgrade() -> None:
    op.create_table(
        "oauth_clients",
        sa.Column("client_id", sa.String(CLIENT_ID), nullable=False),
        sa.Column("client_secret_hash", sa.String(64), nullable=True),
        sa.Column("token_endpoint_auth_method", sa.String(32), nullable=False),
        sa.Column("client_name", sa.Text(), nullable=True),
        sa.Column("client_uri", sa.Text(), nullable=True),
        sa.Column("logo_uri", sa.Text(), nullable=True),
        sa.Column("redirect_uris", sa.JSON(), nullable=False),
        sa.Column("grant_types", sa.JSON(), nullable=False),
        sa.Column("response_types", sa.JSON(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("application_type", sa.String(16), nullable=False),
        sa.Column("client_id_issued_at", UtcDateTime(), nullable=False),
        sa.Column("last_used_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_oauth_clients")),
    )
    op.create_index(op.f("ix_oauth_clients_last_used_at"), "oauth_clients", ["last_used_at"])

    op.create_table(
        "authorization_codes",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(CLIENT_ID), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("resource", sa.String(CLIENT_ID), nullable=False),
        sa.Column("code_challenge", sa.String(128), nullable=False),
        sa.Column("code_challenge_method", sa.String(8), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("used_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authorization_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_authorization_codes_code_hash")),
    )
    op.create_index(op.f("ix_authorization_codes_client_id"), "authorization_codes", ["client_id"])
    op.create_index(op.f("ix_authorization_codes_expires_at"), "authorization_codes", ["expires_at"])

    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("family_id", sa.String(32), nullable=False),
        sa.Column("client_id", sa.String(CLIENT_ID), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("resource", sa.String(CLIENT_ID), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("used_at", UtcDateTime(), nullable=True),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_refresh_tokens_token_hash")),
    )
    for column in ("family_id", "client_id", "subject", "expires_at"):
        op.create_index(op.f(f"ix_refresh_tokens_{column}"), "refresh_tokens", [column])

    op.create_table(
        "issued_access_tokens",
        sa.Column("jti", sa.String(64), nullable=False),
        sa.Column("family_id", sa.String(32), nullable=False),
        sa.Column("client_id", sa.String(CLIENT_ID), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_issued_access_tokens")),
    )
    for column in ("family_id", "subject", "expires_at"):
        op.create_index(op.f(f"ix_issued_access_tokens_{column}"), "issued_access_tokens", [column])

    op.create_table(
        "consents",
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("client_id", sa.String(CLIENT_ID), nullable=False),
        sa.Column("resource", sa.String(CLIENT_ID), nullable=False),
        sa.Column("granted_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("subject", "client_id", "resource", name=op.f("pk_consents")),
    )

    op.create_table(
        "used_states",
        sa.Column("state_id", sa.String(64), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("state_id", name=op.f("pk_used_states")),
    )
    op.create_index(op.f("ix_used_states_expires_at"), "used_states", ["expires_at"])


def downgrade() -> None:
    op.drop_table("used_states")
    op.drop_table("consents")
    op.drop_table("issued_access_tokens")
    op.drop_table("refresh_tokens")
    op.drop_table("authorization_codes")
    op.drop_table("oauth_clients")
