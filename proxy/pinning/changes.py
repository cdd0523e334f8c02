"""In-process totals of tool-definition changes pinning recorded, by server and mode (read by metrics)."""

from __future__ import annotations

import threading
from collections import Counter


class PinningChanges:
    """Only grows; ``add`` is called where the gate records a changed or new, unapproved definition."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def add(self, server: str, mode: str) -> None:
        with self._lock:
            self._counts[server, mode] += 1

    def by_server_and_mode(self) -> dict[tuple[str, str], int]:
        with self._lock:
            return dict(self._counts)


PINNING_CHANGES = PinningChanges()
"""The process's totals (one per process, like ``proxy.wire.outbox.DROPPED_NOTIFICATIONS``)."""
