"""``INSERT … ON CONFLICT DO NOTHING RETURNING`` on SQLite and PostgreSQL, for single-use markers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_if_absent(db: Session, table: Table, values: dict[str, Any]) -> bool:
    """Insert ``values`` unless a row with the same key exists; True when this call inserted it.

    Atomic on both backends, so two concurrent callers cannot both see True. (``RETURNING``
    rather than ``rowcount``, which psycopg reports as -1 for this statement.)
    """
    dialect = db.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    key = next(iter(table.primary_key.columns))
    statement = module.insert(table).values(**values).on_conflict_do_nothing().returning(key)
    return db.execute(statement).first() is not None
