"""Where batches of audit rows go: the ``audit_events`` table and a JSON-lines stream.

Both are blocking and run off the event loop (the database executor; a worker thread for the file).
"""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
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
    """One JSON object per line, appended to ``path`` (``"-"``: standard output), one ``write()`` call per line.

    The file is opened with ``O_APPEND`` for each batch: POSIX appends every ``write()`` to a regular
    file at its end in one step, so lines from several processes (workers, ``portico`` commands)
    never interleave within a line; their order between processes is not guaranteed. On standard
    output a pipe keeps a write of at most ``PIPE_BUF`` bytes (4096 on Linux) whole.
    """

    def __init__(self, path: str) -> None:
        self.path = path

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        lines = [_line(row) for row in rows]
        if self.path == "-":
            _write_stdout(lines)
            return
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)  # umask applies, as open()
        try:
            for line in lines:
                _write_all(descriptor, line)
        finally:
            os.close(descriptor)


def _line(row: dict[str, Any]) -> bytes:
    return (json.dumps(jsonable(row), separators=(",", ":"), default=str) + "\n").encode()


def _write_stdout(lines: list[bytes]) -> None:
    sys.stdout.flush()  # what print() left buffered goes first
    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):  # replaced by an in-memory stream
        for line in lines:
            sys.stdout.write(line.decode())
        sys.stdout.flush()
        return
    for line in lines:
        _write_all(descriptor, line)


def _write_all(descriptor: int, line: bytes) -> None:
    """One ``write()`` for ``line``; more only after a short write (disk full, a signal), which POSIX allows."""
    written = os.write(descriptor, line)
    while written < len(line):
        line = line[written:]
        written = os.write(descriptor, line)


CLI_ACTOR = "cli"
"""``details["actor"]`` of every event a ``portico`` command records: the operator at the command line."""


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
