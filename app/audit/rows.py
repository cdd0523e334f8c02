"""Audit records as plain dicts: the columns of ``audit_events`` (also the JSON-lines shape).

``time`` is a UTC :class:`~datetime.datetime`; durations are milliseconds; sizes bytes.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from app.observe.records import AuthEvent, McpRequestRecord

REDACTED = "[redacted]"
MCP_REQUEST = "mcp_request"


def redact(value: Any, keys: Collection[str]) -> Any:
    """``value`` with the values of ``keys`` (lower-case names) replaced by ``"[redacted]"``, at any depth."""
    if isinstance(value, dict):
        return {k: REDACTED if str(k).lower() in keys else redact(v, keys) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(item, keys) for item in value]
    return value


def mcp_row(record: McpRequestRecord, redact_keys: Collection[str] | None = None) -> dict[str, Any]:
    """The row of one MCP request; ``arguments`` only when ``redact_keys`` is given (include_arguments)."""
    arguments = record.arguments
    return {
        "time": datetime.fromtimestamp(record.started_at, UTC),
        "request_id": record.request_id,
        "kind": MCP_REQUEST,
        "subject": record.subject,
        "email": record.email,
        "client_id": record.client_id,
        "server": record.server,
        "member": record.member,
        "method": record.method,
        "target": record.target,
        "transport": record.transport,
        "mcp_session_id": record.mcp_session_id,
        "policy": record.policy,
        "policy_rule": record.policy_rule,
        "outcome": record.outcome,
        "error_code": record.error_code,
        "http_status": record.http_status,
        "duration_ms": round(record.duration * 1000, 3),
        "upstream_ms": None if record.upstream_duration is None else round(record.upstream_duration * 1000, 3),
        "bytes_in": record.bytes_in,
        "bytes_out": record.bytes_out,
        "client_address": record.client_address,
        "era": record.era,
        "reason": "rate_limited" if record.limit is not None else None,
        "details": {"limit": record.limit} if record.limit is not None else None,
        "arguments": None if redact_keys is None or arguments is None else redact(arguments, redact_keys),
    }


def auth_row(event: AuthEvent) -> dict[str, Any]:
    """The row of one authorization event (no MCP fields)."""
    return {
        "time": datetime.fromtimestamp(event.at, UTC),
        "request_id": event.request_id,
        "kind": event.kind,
        "subject": event.subject,
        "email": event.email,
        "client_id": event.client_id,
        "server": event.details.get("server"),
        "member": None,
        "method": None,
        "target": None,
        "transport": None,
        "mcp_session_id": None,
        "policy": None,
        "policy_rule": None,
        "outcome": event.outcome,
        "error_code": None,
        "http_status": None,
        "duration_ms": None,
        "upstream_ms": None,
        "bytes_in": None,
        "bytes_out": None,
        "client_address": event.client_address,
        "era": None,
        "reason": event.reason,
        "details": dict(event.details) or None,
        "arguments": None,
    }


def jsonable(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with its time as ISO 8601 (UTC, ``Z``) and NULL fields left out: one JSON-lines record."""
    out = {k: v for k, v in row.items() if v is not None}
    time: datetime = row["time"]
    out["time"] = time.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return out
