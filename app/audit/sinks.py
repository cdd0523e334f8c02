"""Where batches of audit rows go: the ``audit_events`` table and a JSON-lines stream.

Both are blocking and run off the event loop (the database executor; a worker thread for the file).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from app.audit.rows import auth_row, jsonable
from app.audit.table import AuditEventRow
from app.config.audit import AuditConfig
from app.observe.records import AuthEvent


def insert_rows(db: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Append ``rows`` (dicts of :data:`app.audit.table.COLUMNS`) to ``audit_events``."""
    db.execute(insert(AuditEventRow), list(rows))


def delete_before(db: Session, cutoff: datetime) -> int:
    """Delete the rows older than ``cutoff``; returns how many went."""
    result = db.execute(delete(AuditEventRow).where(AuditEventRow.time < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


def retention_cutoff(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


class JsonlSink:
    """One JSON object per line, appended to ``path`` (``"-"``: standard output) and flushed per batch."""

    def __init__(self, path: str) -> None:
        self.path = path

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        text = "".join(json.dumps(jsonable(row), separators=(",", ":"), default=str) + "\n" for row in rows)
        if self.path == "-":
            sys.stdout.write(text)
            sys.stdout.flush()
            return
        with Path(self.path).open("a", encoding="utf-8") as file:
            file.write(text)


def record_now(config: AuditConfig, db: Session, events: Sequence[AuthEvent]) -> None:
    """Write ``events`` at once where ``config`` sends audit records, ``db`` in the caller's transaction.

    For processes without a running trail (the ``portico`` commands): the same rows as the drainer's.
    """
    if not config.enabled or not events:
        return
    rows = [auth_row(event) for event in events]
    if config.to_database:
        insert_rows(db, rows)
    if config.to_jsonl:
        JsonlSink(config.jsonl_path).write(rows)
