"""A per-key sliding-window rate limit, in process memory (one Portico process per limit).

Used for client registration per client IP (``oauth.registrations_per_minute``). Time comes from
the injected clock, so tests move it instead of sleeping. The key is :func:`client_key` of the
client's address, which ``listen.trusted_proxies`` makes the real client's behind a reverse proxy
(the rightmost ``X-Forwarded-For`` entry no trusted proxy added), so one caller's attempts, failed
or not, use up only its own allowance.
"""

from __future__ import annotations

import ipaddress
import threading
from collections import defaultdict, deque

from app.clock import Clock

WINDOW_SECONDS = 60.0
_MAX_KEYS = 10_000


def client_key(address: str | None) -> str:
    """The limit key of a client address: IPv4 as is, IPv6 by its /64 (one subscriber's usual allocation)."""
    if not address:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class SlidingWindowLimiter:
    def __init__(self, limit: int, clock: Clock, window: float = WINDOW_SECONDS) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._hits: defaultdict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Count one event for ``key``; False when ``limit`` events already happened in the window."""
        now = self._clock.now().timestamp()
        with self._lock:
            if len(self._hits) > _MAX_KEYS:
                self._forget_idle(now)
            hits = self._hits[key]
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            return True

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - self.window]:
            del self._hits[key]
