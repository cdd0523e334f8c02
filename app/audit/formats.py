"""``portico audit`` output: a table for people, JSON (an array of records) or CSV (every column)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from app.audit.rows import jsonable
from app.audit.table import COLUMNS

_TABLE = ("time", "kind", "user", "client_id", "server", "what", "outcome", "policy", "ms", "request_id")


def as_json(rows: Sequence[dict[str, Any]]) -> str:
    return json.dumps([jsonable(row) for row in rows], indent=2, default=str)


def as_csv(rows: Sequence[dict[str, Any]]) -> str:
    """Header = :data:`COLUMNS`; ``details`` and ``arguments`` JSON-encoded; NULL is an empty field."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        record = jsonable(row)
        writer.writerow([_cell(record.get(column)) for column in COLUMNS])
    return out.getvalue()


def as_table(rows: Sequence[dict[str, Any]]) -> str:
    lines = [list(_TABLE)] + [[_short(value) for value in _summary(row)] for row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(_TABLE))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in lines
    )


def _summary(row: dict[str, Any]) -> list[Any]:
    record = jsonable(row)
    what = " ".join(str(part) for part in (row["method"], row["target"]) if part) or row["reason"]
    outcome = row["outcome"]
    if row["error_code"] is not None:
        outcome = f"{outcome} {row['error_code']}"
    elif row["http_status"] is not None and row["http_status"] >= 400:
        outcome = f"{outcome} {row['http_status']}"
    policy = f"{row['policy']} ({row['policy_rule']})" if row["policy_rule"] else row["policy"]
    return [
        record["time"],
        row["kind"],
        row["email"] or row["subject"],
        row["client_id"],
        row["server"],
        what,
        outcome,
        policy,
        row["duration_ms"],
        row["request_id"],
    ]


def _short(value: object, limit: int = 48) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)
