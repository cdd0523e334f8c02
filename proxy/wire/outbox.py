"""A bounded, never-blocking queue of messages on their way to one client stream.

The reader of a shared upstream connection (one stdio process serving several requests) must
never wait for one slow client, or every other request on that connection would stall behind
it. So delivery is ``put`` without waiting, into a queue of ``gateway.stream_buffer_messages``:

- a notification that finds the queue full is **dropped**: counted at once in
  :data:`DROPPED_NOTIFICATIONS` (per configured server) and logged once per stream, when the
  stream ends, with how many it lost (MCP allows it: notifications are not acknowledged, and
  the final response is kept);
- a server→client request that finds it full is refused (the caller answers the upstream);
- a final response is **never** dropped: it is queued even beyond the capacity (at most one per
  request) and delivered after everything queued before it, so ordering holds and memory stays
  bounded.

One outbox serves one POST: a single request, or every request of a 2025-03-26 batch
(``finals`` = how many responses end it).
"""

from __future__ import annotations

import logging
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

import anyio

log = logging.getLogger("portico.proxy")


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message for the client. ``http_status`` is set on Portico's own errors (gateway status)."""

    message: dict[str, Any]
    final: bool = False
    http_status: int | None = None


class DroppedNotifications:
    """In-process totals of notifications dropped for slow client streams, by configured server.

    Read with :meth:`total` or :meth:`by_server` (e.g. by a metrics exporter); only grows.
    """

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()

    def add(self, server: str, count: int = 1) -> None:
        self._counts[server] += count

    def total(self, server: str | None = None) -> int:
        """Dropped for ``server``, or for every server when None."""
        return self._counts[server] if server is not None else sum(self._counts.values())

    def by_server(self) -> dict[str, int]:
        return dict(self._counts)


DROPPED_NOTIFICATIONS = DroppedNotifications()
"""The process's counter (one per process, like the log)."""


class Outbox:
    """A deque and at most one waiting consumer: cheaper per request than an anyio memory stream.

    Exactly one consumer calls :meth:`get` at a time (the stream's relay); producers never wait.
    """

    def __init__(self, capacity: int, label: str, *, finals: int = 1, server: str | None = None) -> None:
        """``label`` names the stream in logs; ``server`` (the configured server, by default the
        start of ``label`` up to ``[`` or ``/``) is what drops are counted under."""
        self._items: deque[Outgoing] = deque()
        self._capacity = capacity
        self._waiter: anyio.Event | None = None
        self._label = label
        self._server = server if server is not None else label.split("[", 1)[0].split("/", 1)[0]
        self._finals_left = finals
        self._reported = False
        self.dropped = 0
        self.closed = False

    def put(self, item: Outgoing) -> bool:
        """Queue ``item`` without waiting; False when it was not queued (full or consumer gone)."""
        if self.closed:
            return False
        if len(self._items) >= self._capacity and not item.final:
            self._drop()
            return False
        # A final response is queued even when full (at most one per request): delivered in order.
        self._items.append(item)
        if item.final:
            self._finals_left -= 1
            if self._finals_left <= 0:
                self.closed = True
        self._wake()
        return True

    def _drop(self) -> None:
        self.dropped += 1
        DROPPED_NOTIFICATIONS.add(self._server)

    def _report(self) -> None:
        """The stream has ended: one log line if it lost notifications (never one per drop)."""
        if self.dropped and not self._reported:
            self._reported = True
            log.warning(
                "client stream %s did not keep up: %d notifications dropped (gateway.stream_buffer_messages = %d)",
                self._label,
                self.dropped,
                self._capacity,
            )

    def _wake(self) -> None:
        if self._waiter is not None:
            self._waiter.set()
            self._waiter = None

    def close(self) -> None:
        """No more messages will come; the consumer drains what is queued, then sees the end."""
        self.closed = True
        self._wake()

    async def get(self) -> Outgoing | None:
        """The next message, or None once closed and drained."""
        while not self._items:
            if self.closed:
                self._report()
                return None
            waiter = self._waiter = anyio.Event()
            await waiter.wait()
        item = self._items.popleft()
        if self.closed and not self._items:
            self._report()  # the last message: consumers may stop reading here
        return item

    def abandon(self) -> None:
        """The consumer has gone: later ``put`` calls return False and nothing accumulates."""
        self.closed = True
        self._items.clear()
        self._wake()
        self._report()
