"""Table ``audit_events``: one row per MCP request (``kind = 'mcp_request'``) or authorization event.

Columns hold every field of :class:`app.observe.records.McpRequestRecord` and
:class:`app.observe.records.AuthEvent`; a field the kind does not have is NULL. Indexed for the
filters of ``portico audit`` (time, subject, email, server, target, kind). Never holds secrets.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UtcDateTime


class AuditEventRow(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_time", "time"),
        Index("ix_audit_events_subject_time", "subject", "time"),
        Index("ix_audit_events_email_time", "email", "time"),
        Index("ix_audit_events_server_time", "server", "time"),
        Index("ix_audit_events_target_time", "target", "time"),
        Index("ix_audit_events_kind_time", "kind", "time"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    time: Mapped[datetime] = mapped_column(UtcDateTime())
    request_id: Mapped[str | None] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    client_id: Mapped[str | None] = mapped_column(String(2048))
    server: Mapped[str | None] = mapped_column(String(63))
    member: Mapped[str | None] = mapped_column(String(63))
    method: Mapped[str | None] = mapped_column(String(255))
    target: Mapped[str | None] = mapped_column(String(2048))
    transport: Mapped[str | None] = mapped_column(String(32))
    mcp_session_id: Mapped[str | None] = mapped_column(String(255))
    policy: Mapped[str | None] = mapped_column(String(16))
    policy_rule: Mapped[str | None] = mapped_column(String(255))
    outcome: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[int | None] = mapped_column(Integer())
    http_status: Mapped[int | None] = mapped_column(Integer())
    duration_ms: Mapped[float | None] = mapped_column(Float())
    upstream_ms: Mapped[float | None] = mapped_column(Float())
    bytes_in: Mapped[int | None] = mapped_column(BigInteger())
    bytes_out: Mapped[int | None] = mapped_column(BigInteger())
    client_address: Mapped[str | None] = mapped_column(String(64))
    era: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(255))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON())
    arguments: Mapped[Any | None] = mapped_column(JSON())


COLUMNS: tuple[str, ...] = tuple(c.name for c in AuditEventRow.__table__.columns if c.name != "id")
"""The columns of one audit record, in table order (also the keys of a JSON-lines record)."""
