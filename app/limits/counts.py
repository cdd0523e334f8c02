"""The process's totals of limited requests and of checks answered by the in-process fallback.

Read by the metrics collector at scrape time (``portico_rate_limited_total{limit, scope}``,
``portico_rate_limit_fallbacks_total``); one per process, like
``proxy.wire.outbox.DROPPED_NOTIFICATIONS``. Labels are bounded: rule names come from the
configuration, scopes are ``mcp`` and ``endpoint``.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Literal

Scope = Literal["mcp", "endpoint"]


class LimitedRequests:
    """Limited requests by (rule name, scope); thread-safe."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, Scope]] = Counter()
        self._lock = threading.Lock()
        self.fallbacks = 0

    def add(self, rule: str, scope: Scope) -> None:
        with self._lock:
            self._counts[(rule, scope)] += 1

    def fell_back(self) -> None:
        """One check answered by the in-process fallback because Redis was unreachable."""
        with self._lock:
            self.fallbacks += 1

    def by_rule_and_scope(self) -> dict[tuple[str, Scope], int]:
        with self._lock:
            return dict(self._counts)


LIMITED = LimitedRequests()
"""The process's totals."""
