"""The in-process store: token buckets and quota counters in this process's memory.

Used when no ``redis.url`` is configured, and as the fallback while Redis is unreachable: limits are
then per process (each worker and instance admits its own ``rate``). Thread-safe (one lock; the
authorization server's sync parts and the event loop may both call it). Bounded: past
``max_keys`` entries, ended windows and buckets idle for a day are dropped.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from app.limits.buckets import Bucket, Item, Refusal, refill, refusal, wait_for_token

MAX_KEYS = 100_000
IDLE_SECONDS = 86400.0


class MemoryStore:
    """Buckets as ``key → (tokens, updated)``, counters as ``key → (count, window_end)``."""

    def __init__(self, max_keys: int = MAX_KEYS) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}
        self._counters: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()
        self._max_keys = max_keys

    async def take(self, items: Sequence[Item], now: float) -> Refusal | None:
        """Take one from every item, or from none when one refuses (the longest wait names the refusal)."""
        return self.take_now(items, now)

    def take_now(self, items: Sequence[Item], now: float) -> Refusal | None:
        """:meth:`take` without a coroutine (the Redis store's fallback and sync callers)."""
        with self._lock:
            worst: tuple[float, Item] | None = None
            levels: list[float] = []
            for item in items:
                level, wait = self._level(item, now)
                levels.append(level)
                if wait > 0 and (worst is None or wait > worst[0]):
                    worst = (wait, item)
            if worst is not None:
                return refusal(worst[1], worst[0])
            for item, level in zip(items, levels, strict=True):
                if isinstance(item, Bucket):
                    self._buckets[item.key] = (level - 1.0, now)
                else:
                    self._counters[item.key] = (int(level) + 1, item.window_end)
            if len(self._buckets) + len(self._counters) > self._max_keys:
                self._forget_idle(now)
            return None

    def _level(self, item: Item, now: float) -> tuple[float, float]:
        """(tokens or count now, seconds to wait; 0 when admitted)."""
        if isinstance(item, Bucket):
            tokens, updated = self._buckets.get(item.key, (float(item.burst), now))
            tokens = refill(tokens, updated, now, item)
            return tokens, wait_for_token(tokens, item)
        count, window_end = self._counters.get(item.key, (0, item.window_end))
        if window_end <= now:
            count = 0
        return float(count), (item.window_end - now if count >= item.limit else 0.0)

    def _forget_idle(self, now: float) -> None:
        """Drop ended windows and buckets idle for a day (full again unless ``burst`` outlasts a day of refill)."""
        self._counters = {k: v for k, v in self._counters.items() if v[1] > now}
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < IDLE_SECONDS}
