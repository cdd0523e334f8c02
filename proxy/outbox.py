"""A bounded, never-blocking queue of messages on their way to one client stream.

The reader of a shared upstream connection (one stdio process serving several requests) must
never wait for one slow client, or every other request on that connection would stall behind
it. So delivery is ``put`` without waiting, into a queue of ``gateway.stream_buffer_messages``:

- a notification that finds the queue full is **dropped** (counted, logged once per stream);
- a server→client request that finds it full is refused (the caller answers the upstream);
- a final response is **never** dropped: it overflows into a dedicated list (at most one per
  request) and is delivered after everything queued before it, so ordering holds and memory
  stays bounded.

One outbox serves one POST: a single request, or every request of a 2025-03-26 batch
(``finals`` = how many responses end it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

log = logging.getLogger("portico.proxy")


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message for the client. ``http_status`` is set on Portico's own errors (gateway status)."""

    message: dict[str, Any]
    final: bool = False
    http_status: int | None = None


class Outbox:
    def __init__(self, capacity: int, label: str, *, finals: int = 1) -> None:
        self._send: MemoryObjectSendStream[Outgoing]
        self._receive: MemoryObjectReceiveStream[Outgoing]
        self._send, self._receive = anyio.create_memory_object_stream[Outgoing](capacity)
        self._overflow: list[Outgoing] = []
        self._label = label
        self._finals_left = finals
        self.dropped = 0
        self.closed = False

    def put(self, item: Outgoing) -> bool:
        """Queue ``item`` without waiting; False when it was not queued (full or consumer gone)."""
        if self.closed:
            return False
        try:
            self._send.send_nowait(item)
        except anyio.WouldBlock:
            if not item.final:
                self._drop()
                return False
            self._overflow.append(item)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            self.closed = True
            return False
        if item.final:
            self._finals_left -= 1
            if self._finals_left <= 0:
                self.close()
        return True

    def _drop(self) -> None:
        self.dropped += 1
        if self.dropped == 1:
            log.warning("client stream %s is not keeping up: dropping notifications", self._label)

    def close(self) -> None:
        """No more messages will come; the consumer drains what is queued, then sees the end."""
        self.closed = True
        self._send.close()

    async def get(self) -> Outgoing | None:
        """The next message, or None once closed and drained."""
        try:
            return await self._receive.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            return self._overflow.pop(0) if self._overflow else None

    def abandon(self) -> None:
        """The consumer has gone: later ``put`` calls return False and nothing accumulates."""
        self.closed = True
        self._receive.close()
        self._send.close()
