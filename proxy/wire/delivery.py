"""Writing one POST's answer from an :class:`~proxy.wire.outbox.Outbox`: JSON if it is quick, else SSE.

Both eras let the server answer a request POST with ``application/json`` or
``text/event-stream``. Like the SDK's 2026-07-28 entry, the choice is deferred: if the response
is the first thing to arrive within ``gateway.keepalive_interval`` it is sent as JSON (with the
status the era assigns to it); as soon as anything else arrives first — a progress notification,
a server→client request — or the interval passes, the answer commits to SSE and every message is
written the moment it arrives, with a ``: keep-alive`` comment after each idle interval.

Status of a JSON answer: a result → 200; a JSON-RPC error → 200 in the handshake era (it is the
response), the spec's table in 2026-07-28 (streamable-http.mdx §Server Validation; SDK
``ERROR_CODE_HTTP_STATUS``); Portico's own upstream-fault errors → their gateway status (502/503/504).

With a :class:`~proxy.wire.deadline.RequestDeadline` the waits end at the deadline too: on expiry
``on_expire`` runs (it ends the outbox's requests with the error and cancels them upstream) and
the error is delivered like any final message — JSON 504 if nothing was sent yet, else an event.

When the client goes away, ``on_disconnect`` runs (2026-07-28: cancel upstream, since closing
the stream is the cancellation signal; handshake era: nothing — a disconnect is not a cancel,
2025-11-25 transports §Sending Messages) and the outbox is abandoned so nothing accumulates.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

import anyio
from mcp.shared.inbound import ERROR_CODE_HTTP_STATUS

from proxy.wire.asgi import end_body, send_chunk, send_json, start_sse, wait_for_disconnect
from proxy.wire.deadline import RequestDeadline, RequestTimeoutError
from proxy.wire.exchange import Exchange
from proxy.wire.jsonrpc import encode
from proxy.wire.outbox import Outbox, Outgoing
from proxy.wire.sse import KEEPALIVE, message_event

log = logging.getLogger("portico.proxy")
OnDisconnect = Callable[[], Awaitable[None]]
OnExpire = Callable[[RequestTimeoutError], Awaitable[None]]


def json_status(item: Outgoing, *, modern: bool) -> int:
    if item.http_status is not None:
        return item.http_status
    error = item.message.get("error")
    if modern and isinstance(error, dict) and isinstance(error.get("code"), int):
        return ERROR_CODE_HTTP_STATUS.get(error["code"], 200)
    return 200


async def deliver(
    exchange: Exchange,
    outbox: Outbox,
    *,
    modern: bool,
    keepalive: float,
    headers: Mapping[str, str],
    allow_json: bool = True,
    on_disconnect: OnDisconnect | None = None,
    deadline: RequestDeadline | None = None,
    on_expire: OnExpire | None = None,
) -> None:
    """Relay ``outbox`` to the client until its final message(s), or until the client leaves.

    ``on_expire`` must put the final message(s) still missing into ``outbox`` (it runs at most once).
    """
    finished = False
    waiter = _Waiter(outbox, keepalive, deadline, on_expire)

    async def relay() -> None:
        nonlocal finished
        await _relay(exchange, waiter, modern=modern, headers=headers, allow_json=allow_json)
        finished = True

    await _until_disconnect(exchange, relay)
    if not finished:
        outbox.abandon()
        if on_disconnect is not None:
            with anyio.CancelScope(shield=True):
                await on_disconnect()


async def _until_disconnect(exchange: Exchange, body: Callable[[], Awaitable[None]]) -> None:
    """Run ``body``, cancelled if the client disconnects first (a failing ``receive`` counts as that).

    On asyncio (what uvicorn runs) the disconnect watcher is a bare task: an anyio task group per
    request costs several times more (task info, weak references, a cancel scope per task).
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # another anyio backend
        async with anyio.create_task_group() as group:

            async def watch() -> None:
                await wait_for_disconnect(exchange.receive)
                group.cancel_scope.cancel()

            group.start_soon(watch)
            await body()
            group.cancel_scope.cancel()
        return
    with anyio.CancelScope() as scope:

        def gone(task: asyncio.Task[None]) -> None:
            if not task.cancelled():
                if (error := task.exception()) is not None:
                    log.debug("receive failed while relaying: %r", error)
                scope.cancel()

        watcher = loop.create_task(wait_for_disconnect(exchange.receive))
        watcher.add_done_callback(gone)
        try:
            await body()
        finally:
            watcher.remove_done_callback(gone)
            watcher.cancel()


class _Waiter:
    """Waits for the next message of ``outbox`` until the next keep-alive, or the request's deadline."""

    __slots__ = ("_deadline", "_keepalive", "_on_expire", "outbox")

    def __init__(
        self, outbox: Outbox, keepalive: float, deadline: RequestDeadline | None, on_expire: OnExpire | None
    ) -> None:
        self.outbox = outbox
        self._keepalive = keepalive
        self._deadline = deadline if on_expire is not None else None
        self._on_expire = on_expire

    async def next(self) -> tuple[Outgoing | None, bool]:
        """(the next message or None when closed, whether the wait ended idle instead)."""
        deadline = self._deadline
        item: Outgoing | None = None
        with anyio.move_on_after(self._keepalive if deadline is None else deadline.wait(self._keepalive)) as idle:
            item = await self.outbox.get()
        if not idle.cancelled_caught:
            if deadline is not None and item is not None and not item.final:
                deadline.touch()
            return item, False
        if deadline is not None and self._on_expire is not None and (error := deadline.expired()) is not None:
            self._deadline = None
            await self._on_expire(error)
            return await self.outbox.get(), False
        return None, True


async def _relay(
    exchange: Exchange, waiter: _Waiter, *, modern: bool, headers: Mapping[str, str], allow_json: bool
) -> None:
    outbox = waiter.outbox
    if allow_json:
        first, _idle = await waiter.next()
        if first is not None and first.final and outbox.closed:
            await send_json(exchange.send, json_status(first, modern=modern), encode(first.message), headers)
            return
        await start_sse(exchange.send, headers)
        await send_chunk(exchange.send, KEEPALIVE if first is None else message_event(encode(first.message)))
    else:
        await start_sse(exchange.send, headers)
    while True:
        item, idle = await waiter.next()
        if idle:
            await send_chunk(exchange.send, KEEPALIVE)
            continue
        if item is None:
            break
        await send_chunk(exchange.send, message_event(encode(item.message)))
    await end_body(exchange.send)
