"""A real :class:`app.observe.bus.McpObserver` that keeps what it is given (for tests)."""

from __future__ import annotations

from app.observe.records import McpRequestRecord


class RecordingObserver:
    def __init__(self) -> None:
        self.records: list[McpRequestRecord] = []

    def mcp_request(self, record: McpRequestRecord) -> None:
        self.records.append(record)

    def of(self, method: str) -> list[McpRequestRecord]:
        return [record for record in self.records if record.method == method]
