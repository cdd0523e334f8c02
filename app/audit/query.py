"""Reading ``audit_events`` back, newest first, for ``portico audit`` (filters all optional, ANDed).

``user`` matches the subject or the email; ``tool`` the target (tool, prompt or resource URI);
``since`` inclusive, ``until`` exclusive (aware datetimes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.audit.table import COLUMNS, AuditEventRow


@dataclass(frozen=True)
class AuditFilter:
    user: str | None = None
    server: str | None = None
    tool: str | None = None
    kind: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100


def find_events(db: Session, where: AuditFilter) -> list[dict[str, Any]]:
    """The matching rows as dicts of :data:`app.audit.table.COLUMNS`, newest first, at most ``limit``."""
    query = select(AuditEventRow)
    if where.user is not None:
        query = query.where(or_(AuditEventRow.subject == where.user, AuditEventRow.email == where.user))
    if where.server is not None:
        query = query.where(AuditEventRow.server == where.server)
    if where.tool is not None:
        query = query.where(AuditEventRow.target == where.tool)
    if where.kind is not None:
        query = query.where(AuditEventRow.kind == where.kind)
    if where.since is not None:
        query = query.where(AuditEventRow.time >= where.since)
    if where.until is not None:
        query = query.where(AuditEventRow.time < where.until)
    query = query.order_by(AuditEventRow.time.desc(), AuditEventRow.id.desc()).limit(where.limit)
    return [{column: getattr(row, column) for column in COLUMNS} for row in db.scalars(query)]
