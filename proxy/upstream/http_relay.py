"""Relaying one upstream HTTP response to the client: JSON whole, SSE event by event.

SSE is decoded incrementally (``sse.py``) and each complete event is written to the client as
soon as it is read — no buffering beyond one event — with a ``: keep-alive`` comment after every
``gateway.keepalive_interval`` without one. Between the upstream reader and the client writer
sits a small bounded queue: a client that reads slowly makes the gateway stop reading the
upstream (TCP back-pressure reaches the upstream) instead of growing memory.

If the upstream stream breaks (connection lost, read-idle timeout, oversized event) or ends
cleanly without answering the request and without an event id to resume from, the client's
stream ends with a JSON-RPC error for that request — nothing is left hanging. A clean end after
event ids is passed on as is: the client resumes with ``Last-Event-ID`` (2025-11-25 transports
§Resumability), which Portico forwards upstream.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping

import anyio

from proxy.upstream.http_client import UpstreamHttpError, UpstreamReadTimeoutError, UpstreamResponse
from proxy.wire.asgi import (
    JSON_CONTENT_TYPE,
    end_body,
    send_chunk,
    send_empty,
    send_json,
    start_sse,
    wait_for_disconnect,
)
from proxy.wire.deadline import RequestDeadline, RequestTimeoutError
from proxy.wire.errors import GatewayError, UpstreamFailedError, UpstreamTimeoutError
from proxy.wire.exchange import Exchange
from proxy.wire.jsonrpc import RequestId, encode
from proxy.wire.limits import over_message_limit
from proxy.wire.sse import KEEPALIVE, SseDecoder, SseEvent, SseEventTooLargeError, message_event

_QUEUE_EVENTS = 16
OnExpire = Callable[[RequestTimeoutError], Awaitable[None]]


async def relay_json(exchange: Exchange, response: UpstreamResponse, headers: Mapping[str, str], limit: int) -> None:
    """Relay a non-SSE response (JSON-RPC body or empty) with its status.

    Raises:
        UpstreamFailedError / UpstreamTimeoutError: the body could not be read (nothing sent yet).
    """
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.chunks():
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise UpstreamFailedError(over_message_limit("the upstream response", limit))
    except UpstreamReadTimeoutError as error:
        raise UpstreamTimeoutError("upstream server did not finish its response in time") from error
    except UpstreamHttpError as error:
        raise UpstreamFailedError(f"upstream connection failed: {error}") from error
    if not size:
        await send_empty(exchange.send, response.status_code, headers)
        return
    # One answer is usually one chunk: no copy then. The body keeps the upstream's media type (e.g.
    # text/plain on a 500), written once as Portico's own framing header.
    body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    content_type = headers.get("content-type") or JSON_CONTENT_TYPE
    await send_json(exchange.send, response.status_code, body, headers, content_type=content_type)


async def relay_sse(
    exchange: Exchange,
    response: UpstreamResponse,
    headers: Mapping[str, str],
    *,
    request_id: RequestId | None,
    keepalive: float,
    max_event_bytes: int,
    deadline: RequestDeadline | None = None,
    on_expire: OnExpire | None = None,
) -> None:
    """Relay an event stream until the upstream ends it or the client goes away.

    With ``deadline`` (a stream answering one request): each message event resets its silence
    clock; on expiry the stream ends with the -32001 error event and ``on_expire`` runs (it tells
    the upstream); leaving the relay closes the upstream stream.
    """
    send_events, receive_events = anyio.create_memory_object_stream[bytes](_QUEUE_EVENTS)
    await start_sse(exchange.send, headers, status=response.status_code)
    watcher = _Watcher(request_id)

    async def pump() -> None:
        async with send_events:
            failure: GatewayError | None = None
            try:
                decoder = SseDecoder(max_event_bytes)
                async for chunk in response.chunks():
                    for event in decoder.feed(chunk):
                        watcher.see(event)
                        if deadline is not None and event.is_message:
                            deadline.touch()
                        await send_events.send(event.encode())
            except UpstreamReadTimeoutError:
                failure = UpstreamTimeoutError("upstream server stopped sending (read timeout)")
            except (UpstreamHttpError, SseEventTooLargeError) as error:
                failure = UpstreamFailedError(f"upstream stream broke: {error}")
            closing = watcher.closing_error(failure)
            if closing is not None:
                await send_events.send(message_event(encode(closing)))

    async def write(cancel: anyio.CancelScope) -> None:
        async with receive_events:
            while True:
                frame: bytes | None = None
                with anyio.move_on_after(keepalive if deadline is None else deadline.wait(keepalive)) as idle:
                    try:
                        frame = await receive_events.receive()
                    except anyio.EndOfStream:
                        break
                if idle.cancelled_caught and (error := _expired(deadline, watcher)) is not None:
                    await send_chunk(exchange.send, message_event(encode(error.to_message(request_id))))
                    if on_expire is not None:
                        with anyio.CancelScope(shield=True):
                            await on_expire(error)
                    break
                await send_chunk(exchange.send, KEEPALIVE if idle.cancelled_caught else frame or b"")
        await end_body(exchange.send)
        cancel.cancel()

    async with anyio.create_task_group() as group:
        group.start_soon(pump)
        group.start_soon(write, group.cancel_scope)
        await wait_for_disconnect(exchange.receive)
        group.cancel_scope.cancel()


def _expired(deadline: RequestDeadline | None, watcher: _Watcher) -> RequestTimeoutError | None:
    if deadline is None or watcher.answered:
        return None
    return deadline.expired()


class _Watcher:
    """Tracks whether the relayed stream answered ``request_id`` and whether it can be resumed."""

    def __init__(self, request_id: RequestId | None) -> None:
        self.request_id = request_id
        self.answered = False
        self.resumable = False

    def see(self, event: SseEvent) -> None:
        self.resumable = self.resumable or bool(event.id)
        if self.request_id is None or self.answered or not event.is_message or event.data is None:
            return
        if '"result"' not in event.data and '"error"' not in event.data:
            return
        try:
            message = json.loads(event.data)
        except ValueError:
            return
        self.answered = isinstance(message, dict) and message.get("id") == self.request_id

    def closing_error(self, failure: GatewayError | None) -> dict[str, object] | None:
        if self.request_id is None or self.answered:
            return None
        if failure is None:
            if self.resumable:
                return None
            failure = UpstreamFailedError("upstream server closed the stream without a response")
        return failure.to_message(self.request_id)
