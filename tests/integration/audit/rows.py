"""Reading the audit table of a test database (through the code ``portico audit`` uses)."""

from __future__ import annotations

from typing import Any

from app.audit.query import AuditFilter, find_events
from app.config.database import DatabaseConfig
from app.db import create_db_engine, session_factory, transaction


def audit_rows(database_url: str, **filters: Any) -> list[dict[str, Any]]:
    """Every matching row, oldest first."""
    engine = create_db_engine(database_url, DatabaseConfig())
    try:
        with transaction(session_factory(engine)) as db:
            return list(reversed(find_events(db, AuditFilter(limit=100_000, **filters))))
    finally:
        engine.dispose()
