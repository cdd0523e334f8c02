"""Server-Sent Events framing (WHATWG HTML §9.2 "Server-sent events") for relaying MCP streams.

:class:`SseDecoder` turns an upstream byte stream into whole events as bytes arrive (CRLF, LF or
CR line ends; a blank line ends an event), so the gateway forwards each event the moment it is
complete — never mid-event, which is also the only safe place for a keep-alive comment.
Comments from the upstream are dropped; Portico sends its own keep-alives (``: keep-alive``).
Events carrying only an ``id`` (the 2025-11-25 priming event) are kept: clients need the id to
resume with ``Last-Event-ID``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from proxy.wire.limits import over_message_limit

KEEPALIVE: Final = b": keep-alive\n\n"


class SseEventTooLargeError(ValueError):
    """One upstream event exceeded the configured size bound; the message names the limit and its key."""


def message_event(data: bytes, event_id: str | None = None) -> bytes:
    """One ``event: message`` frame carrying a single-line JSON message."""
    head = f"id: {event_id}\n".encode() if event_id is not None else b""
    return head + b"event: message\ndata: " + data + b"\n\n"


@dataclass(slots=True)
class SseEvent:
    """One dispatched event. ``data`` is None when the event had no ``data`` field at all."""

    data: str | None = None
    event: str | None = None
    id: str | None = None
    retry: int | None = None

    def encode(self) -> bytes:
        lines: list[str] = []
        if self.id is not None:
            lines.append(f"id: {self.id}")
        if self.event is not None:
            lines.append(f"event: {self.event}")
        if self.retry is not None:
            lines.append(f"retry: {self.retry}")
        if self.data is not None:
            lines.extend(f"data: {line}" for line in self.data.split("\n"))
        return ("\n".join(lines) + "\n\n").encode()

    @property
    def is_message(self) -> bool:
        return self.data is not None and self.data != "" and self.event in (None, "message")


@dataclass
class SseDecoder:
    """Incremental decoder: ``feed`` bytes, get back every event completed by them."""

    max_event_bytes: int
    _buffer: bytes = b""
    _after_cr: bool = False
    _event: SseEvent = field(default_factory=SseEvent)
    _fields: int = 0
    _size: int = 0

    def feed(self, chunk: bytes) -> list[SseEvent]:
        """Raises: SseEventTooLargeError when one event grows beyond ``max_event_bytes``."""
        data = self._buffer + chunk
        if self._after_cr and data.startswith(b"\n"):
            data = data[1:]  # the LF of a CRLF split across chunks
        lines = data.splitlines(keepends=True)
        self._buffer = lines.pop() if lines and not lines[-1].endswith((b"\n", b"\r")) else b""
        self._after_cr = bool(lines) and lines[-1].endswith(b"\r") and not self._buffer
        events: list[SseEvent] = []
        for line in lines:
            dispatched = self._line(line.rstrip(b"\r\n"))
            if dispatched is not None:
                events.append(dispatched)
        if self._size + len(self._buffer) > self.max_event_bytes:
            raise SseEventTooLargeError(over_message_limit("an upstream SSE event", self.max_event_bytes))
        return events

    def _line(self, line: bytes) -> SseEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(b":"):
            return None
        self._size += len(line)
        name, _, value = line.decode("utf-8", errors="replace").partition(":")
        value = value.removeprefix(" ")
        self._fields += 1
        if name == "data":
            self._event.data = value if self._event.data is None else f"{self._event.data}\n{value}"
        elif name == "event":
            self._event.event = value
        elif name == "id" and "\0" not in value:
            self._event.id = value
        elif name == "retry" and value.isdigit():
            self._event.retry = int(value)
        return None

    def _dispatch(self) -> SseEvent | None:
        event, fields = self._event, self._fields
        self._event, self._fields, self._size = SseEvent(), 0, 0
        return event if fields else None
