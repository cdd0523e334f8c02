"""``audit``: the audit trail of MCP requests and authorization events (docs/observability.md §Audit, ADR 0018).

On by default, written to the database: a security gateway records who did what unless told not to,
and the cost is an append to a bounded in-memory queue per request (batches are written off the
hot path). Tool arguments are never recorded unless ``include_arguments`` is true, and then with
the values of ``redact_keys`` (matched case-insensitively, at any depth) replaced by ``"[redacted]"``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.config.strict import Strict

DEFAULT_REDACT_KEYS = (
    "password",
    "passwd",
    "secret",
    "token",
    "access_token",
    "refresh_token",
    "api_key",
    "apikey",
    "authorization",
    "cookie",
    "private_key",
)


class AuditConfig(Strict):
    """Where audit records go and how long they are kept (docs/configuration.md §``audit``)."""

    enabled: bool = True
    sink: Literal["database", "jsonl", "both"] = "database"
    jsonl_path: str = "-"  # "-" is standard output
    queue_size: int = Field(default=10_000, ge=1, le=10_000_000)
    batch_size: int = Field(default=500, ge=1, le=10_000)
    flush_interval: float = Field(default=1.0, gt=0, le=3600)
    retention_days: int = Field(default=90, ge=1, le=36_500)
    include_arguments: bool = False
    redact_keys: list[str] = Field(default_factory=lambda: list(DEFAULT_REDACT_KEYS))

    @property
    def to_database(self) -> bool:
        return self.sink in ("database", "both")

    @property
    def to_jsonl(self) -> bool:
        return self.sink in ("jsonl", "both")
