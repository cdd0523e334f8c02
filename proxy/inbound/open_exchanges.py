"""The open exchanges on the MCP routes, and how they end early: shutdown and token lifetime (ADR 0012).

Every ``/<name>/mcp`` exchange and every legacy ``/<name>/sse`` stream is registered here for as
long as its handler runs, as a **stream** (a GET stream: server→client messages not tied to a
request) or a **call** (a POST: a request in flight). Ending one early goes through the exchange's
own ``receive``: it answers ``http.disconnect``, so every handler winds down exactly as if the
client had left (the 2026-07-28 eras cancel upstream, outboxes are abandoned, sessions survive),
and :meth:`OpenExchange.finish` then completes the HTTP response cleanly — an empty last chunk
on a stream, or the JSON-RPC error -32000 "server shutting down" for a call, as plain JSON
(503 + ``Retry-After``) if nothing was sent yet, else as the stream's last event.

- :meth:`OpenExchanges.drain` (SIGTERM, via :class:`app.shutdown.GracefulServer`): idle streams
  end at once; calls (and legacy streams with answers pending) get ``listen.shutdown_grace``;
  then each is cancelled: the upstream is told (``notifications/cancelled``) and the client gets
  -32000. Streams opened while draining end at once.
- :meth:`OpenExchanges.watch_tokens`: every :data:`TOKEN_CHECK_SECONDS`, each open stream whose
  access token has expired (``exp``) or is on the in-memory revocation list (fed by revocation
  events, ADR 0009) is ended. No database I/O: a dictionary lookup per open stream per second.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Final, Protocol

import anyio
from starlette.types import Message, Receive, Send

from proxy.wire.asgi import end_body, send_chunk, send_json
from proxy.wire.errors import ShuttingDownError
from proxy.wire.jsonrpc import RequestId, encode
from proxy.wire.sse import message_event

log = logging.getLogger("portico.proxy")
TOKEN_CHECK_SECONDS: Final = 1.0
UPSTREAM_CANCEL_SECONDS: Final = 2.0
"""How long telling the upstream of a cancellation at shutdown may take."""
_SETTLE_SECONDS: Final = 5.0
_POLL_SECONDS: Final = 0.05
_DISCONNECT: Final[Message] = {"type": "http.disconnect"}


class Kind(Enum):
    STREAM = "stream"
    CALL = "call"


class Ending(Enum):
    """Why Portico ended an exchange (None on the exchange: it was not ended early)."""

    SHUTDOWN = "server shutting down"
    CANCELLED = "cancelled at shutdown"
    EXPIRED = "access token expired"
    REVOKED = "access token revoked"


class RevocationList(Protocol):
    def is_revoked(self, jwt_id: str, now: float) -> bool: ...


@dataclass(eq=False)
class OpenExchange:
    """One registered exchange: its kind, its token's ``jti``/``exp`` and the wrapped ASGI pair.

    ``busy`` (streams only) says the stream still carries answers to requests (legacy SSE);
    ``cancel_upstream`` tells the upstream that the call is abandoned, where a client disconnect
    alone would not (the handshake era: a disconnect is not a cancellation).
    """

    kind: Kind
    server: str
    jwt_id: str
    expires_at: int
    inner_receive: Receive
    inner_send: Send
    busy: Callable[[], bool] | None = None
    cancel_upstream: Callable[[], Awaitable[None]] | None = None
    ending: Ending | None = None
    started: bool = False
    is_sse: bool = False
    ended: bool = False
    _waiting: asyncio.Task[Any] | None = field(default=None, repr=False)
    _interrupted: asyncio.Task[Any] | None = field(default=None, repr=False)

    @property
    def in_flight(self) -> bool:
        return self.kind is Kind.CALL or (self.busy is not None and self.busy())

    async def receive(self) -> Message:
        """The client's next message, or ``http.disconnect`` once Portico ends the exchange.

        The wait is interrupted by cancelling the waiting task and taking that one cancellation
        back (``Task.uncancel``): an anyio ``CancelScope`` here cost ~25 µs per call
        (bench/results/2026-12-04-ops.md); uvicorn always runs asyncio.
        """
        if self.ending is not None:
            return _DISCONNECT
        task = asyncio.current_task()
        self._waiting = task
        try:
            return await self.inner_receive()
        except asyncio.CancelledError:
            if task is None or self._interrupted is not task:
                raise
            self._interrupted = None
            task.uncancel()
            return _DISCONNECT
        finally:
            if self._waiting is task:
                self._waiting = None

    async def send(self, message: Message) -> None:
        if self.ending is Ending.CANCELLED and self.kind is Kind.CALL:  # only finish's -32000 reaches the client
            return
        if message["type"] == "http.response.start":
            self.started = True
            self.is_sse = any(
                k == b"content-type" and v.startswith(b"text/event-stream") for k, v in message["headers"]
            )
        elif message["type"] == "http.response.body" and not message.get("more_body", False):
            self.ended = True
        await self.inner_send(message)

    def close(self, ending: Ending) -> None:
        """End the exchange as if the client had disconnected; :meth:`finish` completes the response."""
        if self.ending is None:
            self.ending = ending
        if self._waiting is not None and self._interrupted is None:
            self._interrupted = self._waiting
            self._waiting.cancel()

    async def finish(self, request_id: RequestId | None, grace: float) -> None:
        """After the handler returned: complete a response Portico cut short (nothing otherwise)."""
        if self.ending is None or self.ended:
            return
        try:
            if not self.started or (self.ending is Ending.CANCELLED and self.kind is Kind.CALL):
                await self._send_error(ShuttingDownError(grace), request_id)
            else:
                await end_body(self.inner_send)
        except OSError:  # the client left meanwhile
            log.debug("%s: client gone while ending an exchange", self.server)

    async def _send_error(self, error: ShuttingDownError, request_id: RequestId | None) -> None:
        body = encode(error.to_message(request_id))
        if not self.started:
            await send_json(self.inner_send, error.http_status, body, error.headers)
        elif self.is_sse:
            await send_chunk(self.inner_send, message_event(body))
            await end_body(self.inner_send)
        else:
            await end_body(self.inner_send)


class OpenExchanges:
    """The registry (one per app). ``shutdown_grace``: seconds calls may still run after SIGTERM."""

    def __init__(self, *, shutdown_grace: float) -> None:
        self.shutdown_grace = shutdown_grace
        self._open: set[OpenExchange] = set()
        self._draining = False
        self._emptied = anyio.Event()

    def __len__(self) -> int:
        return len(self._open)

    def streams(self) -> int:
        """How many open exchanges are client streams (safe from another thread: a copy is counted)."""
        return sum(1 for exchange in list(self._open) if exchange.kind is Kind.STREAM)

    def open(self, exchange: OpenExchange) -> OpenExchange:
        self._open.add(exchange)
        if self._draining and not exchange.in_flight:
            exchange.close(Ending.SHUTDOWN)
        return exchange

    def release(self, exchange: OpenExchange) -> None:
        self._open.discard(exchange)
        if self._draining and not self._open:
            self._emptied.set()

    async def drain(self) -> None:
        """SIGTERM: end idle streams now; calls get ``shutdown_grace``, then -32000 and an upstream cancel."""
        self._draining = True
        idle = self._close_idle()
        busy = sum(1 for e in self._open if e.in_flight)
        log.info(
            "shutdown: closed %d idle stream(s); waiting up to %g s for %d call(s)", idle, self.shutdown_grace, busy
        )
        with anyio.move_on_after(self.shutdown_grace):
            while any(e.in_flight for e in self._open):
                await anyio.sleep(_POLL_SECONDS)
                self._close_idle()
        late = [e for e in self._open if e.ending is None]
        if late:
            log.warning(
                "shutdown: cancelling %d call(s) still running after listen.shutdown_grace (%g s)",
                len(late),
                self.shutdown_grace,
            )
            async with anyio.create_task_group() as group:
                for exchange in late:
                    group.start_soon(_cancel, exchange)
        with anyio.move_on_after(_SETTLE_SECONDS):
            if self._open:
                await self._emptied.wait()

    def _close_idle(self) -> int:
        idle = [e for e in self._open if e.ending is None and not e.in_flight]
        for exchange in idle:
            exchange.close(Ending.SHUTDOWN)
        return len(idle)

    async def watch_tokens(self, revoked: RevocationList, now: Callable[[], float]) -> None:
        """End open streams whose token expired or was revoked, checking every :data:`TOKEN_CHECK_SECONDS`."""
        while True:
            await anyio.sleep(TOKEN_CHECK_SECONDS)
            self.check_tokens(revoked, now())

    def check_tokens(self, revoked: RevocationList, now: float) -> None:
        for exchange in list(self._open):
            if exchange.kind is not Kind.STREAM or exchange.ending is not None:
                continue
            if revoked.is_revoked(exchange.jwt_id, now):
                exchange.close(Ending.REVOKED)
            elif now >= exchange.expires_at:
                exchange.close(Ending.EXPIRED)
            else:
                continue
            log.info("%s: closed a stream: %s", exchange.server, exchange.ending.value if exchange.ending else "")


async def _cancel(exchange: OpenExchange) -> None:
    """Tell the upstream first (its -32800 reply is swallowed), then end the handler; finish sends -32000."""
    exchange.ending = Ending.CANCELLED
    if exchange.cancel_upstream is not None:
        with anyio.move_on_after(UPSTREAM_CANCEL_SECONDS):
            try:
                await exchange.cancel_upstream()
            except Exception as error:  # the upstream may be gone already; the client still gets -32000
                log.info("%s: telling the upstream of a cancellation failed: %s", exchange.server, type(error).__name__)
    exchange.close(Ending.CANCELLED)
