"""A bounded, never-blocking queue of messages on their way to one client stream.

The reader of a shared upstream connection (one stdio process serving several requests) must
never wait for one slow client, or every other request on that connection would stall behind
it. So delivery is ``put`` without waiting, into a queue of ``gateway.stream_buffer_messages``:

- a notification that finds the queue full is **dropped** (counted, logged once per stream);
- a server→client request that finds it full is refused (the caller answers the upstream);
- a final response is **never** dropped: it is queued even beyond the capacity (at most one per
  request) and delivered after everything queued before it, so ordering holds and memory stays
  bounded.

One outbox serves one POST: a single request, or every request of a 2025-03-26 batch
(``finals`` = how many responses end it).
"""

from __future__ import annotations

import logging
from collections import deque
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


class Outbox:
    """A deque and at most one waiting consumer: cheaper per request than an anyio memory stream.

    Exactly one consumer calls :meth:`get` at a time (the stream's relay); producers never wait.
    """

    def __init__(self, capacity: int, label: str, *, finals: int = 1) -> None:
        self._items: deque[Outgoing] = deque()
        self._capacity = capacity
        self._waiter: anyio.Event | None = None
        self._label = label
        self._finals_left = finals
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
        if self.dropped == 1:
            log.warning("client stream %s is not keeping up: dropping notifications", self._label)

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
                return None
            waiter = self._waiter = anyio.Event()
            await waiter.wait()
        return self._items.popleft()

    def abandon(self) -> None:
        """The consumer has gone: later ``put`` calls return False and nothing accumulates."""
        self.closed = True
        self._items.clear()
        self._wake()
