"""``portico audit``: query the audit trail (table ``audit_events``), newest first.

Filters (ANDed): ``--user`` (email or subject), ``--server``, ``--tool`` (tool, prompt or resource
URI), ``--kind`` (``mcp_request`` or an authorization event kind), ``--since`` / ``--until``
(ISO 8601 or ``1h`` / ``7d`` back from now), ``--limit``; ``--format table | json | csv``.
Bad arguments exit 2 (argparse). docs/observability.md §Audit.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from app import migrate
from app.audit.formats import as_csv, as_json, as_table
from app.audit.query import AuditFilter, find_events
from app.audit.times import parse_time
from app.config import load_config
from app.config.loader import resolve_config_path
from app.db import create_db_engine, session_factory, transaction

FORMATS = {"table": as_table, "json": as_json, "csv": as_csv}


class AuditCommandError(Exception):
    """A user-facing failure of ``portico audit`` (printed after ``portico:``, exit 1)."""


def install(commands: Any) -> None:
    """Add ``audit`` to the ``portico`` sub-command parser."""
    audit: argparse.ArgumentParser = commands.add_parser("audit", help="query the audit trail (newest first)")
    audit.add_argument("--user", help="email address or subject")
    audit.add_argument("--server", help="server name")
    audit.add_argument("--tool", help="tool or prompt name, or resource URI")
    audit.add_argument("--kind", help="mcp_request or an authorization event kind (sign_in, token_issued, …)")
    audit.add_argument("--since", type=_time, help="from this time: ISO 8601 or a span back from now (1h, 7d)")
    audit.add_argument("--until", type=_time, help="before this time: ISO 8601 or a span back from now")
    audit.add_argument("--limit", type=_positive, default=100, help="at most this many records (default 100)")
    audit.add_argument("--format", choices=sorted(FORMATS), default="table", help="output format (default table)")
    audit.add_argument("--config", help="configuration file")
    audit.set_defaults(handler=_audit)


def _time(text: str) -> datetime:
    try:
        return parse_time(text, datetime.now(UTC))
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _positive(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 1_000_000:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number from 1 to 1000000")
    return int(text)


def _audit(args: argparse.Namespace) -> int:
    where = AuditFilter(
        user=args.user,
        server=args.server,
        tool=args.tool,
        kind=args.kind,
        since=args.since,
        until=args.until,
        limit=args.limit,
    )
    engine = create_db_engine(load_config(resolve_config_path(args.config)).database_url)
    try:
        if not migrate.is_current(engine):
            raise AuditCommandError("the database is not up to date: run `portico migrate` first")
        with transaction(session_factory(engine)) as db:
            rows = find_events(db, where)
    finally:
        engine.dispose()
    print(FORMATS[args.format](rows))
    return 0
