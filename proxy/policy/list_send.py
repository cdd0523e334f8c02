"""An ASGI ``send`` that filters the answers to list requests on their way to the client.

Every backend ends in ASGI sends on the exchange — the Streamable HTTP relay
(:mod:`proxy.upstream.http_relay`: a JSON body whole, SSE event by event), message backends and
the era bridges (:mod:`proxy.wire.delivery`: one JSON body or one ``message`` event per send) and
the legacy SSE client side, which hands each message to the backend on an in-process exchange and
unpacks what is sent to it (:mod:`proxy.inbound.legacy_sse`) — so one interceptor covers them all.

:class:`ListFilteringSend` is given the ids of the list requests of one POST (``{id: method}``):

- ``application/json``: the body is held until complete (the writers bound it by
  ``gateway.max_message_bytes``); a response (or a batch's responses) to one of the ids gets its
  ``result`` filtered, and ``Content-Length`` is rewritten. Other bodies pass unchanged.
- ``text/event-stream``: frames are passed on as they complete (Portico's writers end every frame
  with a blank line, ``\\n\\n``), so nothing is held beyond one event. A ``message`` event answering
  one of the ids gets its ``result`` filtered (its ``id:``/``event:`` lines kept); every other
  event — progress, server→client requests, ``list_changed`` notifications, keep-alives — passes
  untouched. Once every id is answered the rest of the stream is passed through without parsing.
- anything else (202, an error page) passes unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any

from starlette.types import Message, Send

from proxy.wire.jsonrpc import RequestId, encode

FilterResult = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]
"""``(method, result) → filtered result`` (the same object when nothing changes)."""


class _Mode(Enum):
    UNKNOWN = 0
    JSON = 1
    SSE = 2
    PASS = 3


class ListFilteringSend:
    """Wraps ``send``; filters the results answering ``pending`` (request id → list method)."""

    def __init__(self, send: Send, pending: dict[RequestId, str], filter_result: FilterResult) -> None:
        self._send = send
        self._pending = dict(pending)
        self._filter = filter_result
        self._mode = _Mode.UNKNOWN
        self._start: Message | None = None
        self._held: list[bytes] = []

    async def __call__(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            await self._begin(message)
        elif kind == "http.response.body" and self._mode is _Mode.JSON:
            await self._json_body(message)
        elif kind == "http.response.body" and self._mode is _Mode.SSE and (self._pending or self._held):
            await self._sse_body(message)
        else:
            await self._send(message)

    async def _begin(self, message: Message) -> None:
        content_type = b""
        for name, value in message.get("headers", []):
            if name.lower() == b"content-type":
                content_type = value.lower()
        if content_type.startswith(b"application/json"):
            self._mode, self._start = _Mode.JSON, message
            return
        self._mode = _Mode.SSE if content_type.startswith(b"text/event-stream") else _Mode.PASS
        await self._send(message)

    # --- JSON ---------------------------------------------------------------------------------------

    async def _json_body(self, message: Message) -> None:
        self._held.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        original = b"".join(self._held)
        self._held = []
        body = await self._filtered_json(original)
        start = self._start
        assert start is not None
        if body is not original:
            headers = [(n, v) for n, v in start.get("headers", []) if n.lower() != b"content-length"]
            start = {**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]}
        await self._send(start)
        await self._send({"type": "http.response.body", "body": body})

    async def _filtered_json(self, body: bytes) -> bytes:
        try:
            decoded = json.loads(body)
        except ValueError:
            return body
        items = decoded if isinstance(decoded, list) else [decoded]
        changed = False
        for index, item in enumerate(items):
            filtered = await self._answer(item)
            if filtered is not None:
                items[index], changed = filtered, True
        if not changed:
            return body
        return encode(items if isinstance(decoded, list) else items[0])

    # --- SSE ----------------------------------------------------------------------------------------

    async def _sse_body(self, message: Message) -> None:
        data = b"".join(self._held) + message.get("body", b"")
        more = message.get("more_body", False)
        cut = data.rfind(b"\n\n") + 2 if self._pending else len(data)
        complete, rest = (data[:cut], data[cut:]) if cut >= 2 else (b"", data)
        self._held = [rest] if rest and more else []
        out = await self._filtered_frames(complete) if complete and self._pending else complete
        if not more:
            out += rest
        if out or not more:
            await self._send({"type": "http.response.body", "body": out, "more_body": more})

    async def _filtered_frames(self, frames: bytes) -> bytes:
        parts = frames.split(b"\n\n")
        for index, frame in enumerate(parts):
            if self._pending and b'"result"' in frame:
                parts[index] = await self._filtered_frame(frame)
        return b"\n\n".join(parts)

    async def _filtered_frame(self, frame: bytes) -> bytes:
        lines = frame.split(b"\n")
        data = [line[5:].removeprefix(b" ") for line in lines if line.startswith(b"data:")]
        event = [line for line in lines if line.startswith(b"event:")]
        if not data or (event and event[0][6:].strip() != b"message"):
            return frame
        try:
            decoded = json.loads(b"\n".join(data))
        except ValueError:
            return frame
        filtered = await self._answer(decoded)
        if filtered is None:
            return frame
        kept = [line for line in lines if line and not line.startswith(b"data:")]
        return b"\n".join([*kept, b"data: " + encode(filtered)])

    # --- one response -------------------------------------------------------------------------------

    async def _answer(self, message: object) -> dict[str, Any] | None:
        """The filtered response when ``message`` answers a pending list request (and changed), else None."""
        if not isinstance(message, dict) or "method" in message or not isinstance(message.get("result"), dict):
            return None
        request_id = message.get("id")
        if not isinstance(request_id, str | int) or isinstance(request_id, bool) or request_id not in self._pending:
            return None
        method = self._pending.pop(request_id)
        result = message["result"]
        filtered = await self._filter(method, result)
        return None if filtered is result else {**message, "result": filtered}
