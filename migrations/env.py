"""Alembic environment: the engine comes from Portico (``config.attributes['engine']``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import migrations.models  # noqa: F401 - registers every table on Base.metadata
from app.db import Base

target_metadata = Base.metadata


def run_migrations() -> None:
    engine = context.config.attributes.get("engine")
    if engine is None:
        engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "sqlite:///./portico.db")
    with engine.begin() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        context.run_migrations()


run_migrations()
