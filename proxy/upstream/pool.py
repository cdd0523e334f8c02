"""Live upstream message connections, keyed by (server, user, era): spawned on demand, reused, capped, reaped.

- **Key.** ``subject`` is the user (``None`` for a ``shared`` server); ``era`` is ``"modern"`` or
  ``"handshake/<requested revision>"`` because a stdio connection serves one protocol era and one
  negotiated revision for its whole life (SDK ``serve_dual_era_loop``). A user normally has one
  process per server; a second appears only when their clients speak different revisions.
- **Start.** Concurrent requests for a missing key wait for one start (no duplicate spawns); a
  start (spawn + handshake) is bounded by ``gateway.process_start_timeout``.
- **Caps.** ``gateway.max_processes_per_user`` and ``gateway.max_processes``: at a cap the least
  recently used idle connection (nothing in flight) is closed to make room, else 503.
- **End.** A connection that ends by itself (crash, exit) fails its in-flight requests with a
  JSON-RPC error and leaves the pool; the next request starts a new one. Idle connections are
  closed after the server's ``idle_timeout``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
from anyio.abc import TaskGroup

from proxy.upstream.connection import MessageConnection
from proxy.upstream.multiplexer import Multiplexer
from proxy.wire.errors import CapacityExceededError, UpstreamFailedError, UpstreamUnavailableError

log = logging.getLogger("portico.proxy")


@dataclass(frozen=True, slots=True)
class UpstreamKey:
    server: str
    subject: str | None
    era: str


@dataclass(eq=False)
class Upstream:
    """One live connection with its multiplexer and what its handshake established."""

    key: UpstreamKey
    connection: MessageConnection
    mux: Multiplexer
    last_used: float
    initialize_result: dict[str, Any] | None = None
    tool_schemas: dict[str, Any] = field(default_factory=dict)
    closed: bool = False

    def touch(self) -> None:
        self.last_used = anyio.current_time()


Connect = Callable[[], Awaitable[MessageConnection]]
Prepare = Callable[[Upstream], Awaitable[None]]


class UpstreamPool:
    def __init__(self, *, max_total: int, max_per_user: int, start_timeout: float) -> None:
        self._max_total = max_total
        self._max_per_user = max_per_user
        self._start_timeout = start_timeout
        self._live: dict[UpstreamKey, Upstream] = {}
        self._starting: dict[UpstreamKey, anyio.Event] = {}
        self._group: TaskGroup | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Own the reader tasks; on exit every connection is closed (concurrently: each may take grace periods)."""
        async with anyio.create_task_group() as group:
            self._group = group
            try:
                yield
            finally:
                self._group = None
                with anyio.CancelScope(shield=True):
                    async with anyio.create_task_group() as closing:
                        for upstream in list(self._live.values()):
                            closing.start_soon(self.close, upstream)
                group.cancel_scope.cancel()

    def spawn(self, task: Callable[[], Coroutine[Any, Any, None]]) -> None:
        if self._group is None:
            raise UpstreamUnavailableError("the gateway is not running")
        self._group.start_soon(task)

    def live(self) -> list[Upstream]:
        return list(self._live.values())

    def get(self, key: UpstreamKey) -> Upstream | None:
        upstream = self._live.get(key)
        return upstream if upstream is not None and not upstream.closed else None

    async def acquire(self, key: UpstreamKey, connect: Connect, prepare: Prepare) -> Upstream:
        """The live connection for ``key``, starting it (``connect`` then ``prepare``) if needed.

        Raises:
            CapacityExceededError: at a cap with nothing idle to close.
            UpstreamUnavailableError: the start failed or timed out.
            GatewayError: whatever ``prepare`` raised (e.g. the upstream refused the handshake).
        """
        while True:
            if (upstream := self.get(key)) is not None:
                upstream.touch()
                return upstream
            if (starting := self._starting.get(key)) is not None:
                await starting.wait()
                continue
            await self._make_room(key)
            return await self._start(key, connect, prepare)

    async def _start(self, key: UpstreamKey, connect: Connect, prepare: Prepare) -> Upstream:
        event = self._starting[key] = anyio.Event()
        try:
            with anyio.fail_after(self._start_timeout):
                connection = await connect()
                upstream = Upstream(
                    key, connection, Multiplexer(connection.send, self.spawn, label=connection.label), 0.0
                )
                upstream.touch()
                self._live[key] = upstream
                self.spawn(lambda: self._read(upstream))
                try:
                    await prepare(upstream)
                except BaseException:
                    await self.close(upstream)
                    raise
            return upstream
        except TimeoutError as error:
            raise UpstreamUnavailableError(
                f"upstream server {key.server} did not start within {self._start_timeout:g} s"
            ) from error
        finally:
            del self._starting[key]
            event.set()

    async def _read(self, upstream: Upstream) -> None:
        try:
            ending = await upstream.connection.run(upstream.mux.on_message)
        except Exception:  # the reader must never take the pool down
            log.exception("%s: reader failed", upstream.connection.label)
            ending = "failed"
        self._discard(upstream)
        if upstream.mux.in_flight:
            log.warning("%s %s with %d requests in flight", upstream.connection.label, ending, upstream.mux.in_flight)
        upstream.mux.fail_all(UpstreamFailedError(f"upstream server {upstream.key.server} {ending}"))
        await upstream.connection.aclose()

    def _discard(self, upstream: Upstream) -> None:
        upstream.closed = True
        if self._live.get(upstream.key) is upstream:
            del self._live[upstream.key]

    async def close(self, upstream: Upstream) -> None:
        self._discard(upstream)
        await upstream.connection.aclose()

    async def _make_room(self, key: UpstreamKey) -> None:
        if key.subject is not None and self._count(key.subject) >= self._max_per_user:
            await self._evict_idle(key.subject, "max_processes_per_user")
        if len(self._live) + len(self._starting) >= self._max_total:
            await self._evict_idle(None, "max_processes")

    def _count(self, subject: str) -> int:
        keys = [*self._live, *self._starting]
        return sum(1 for key in keys if key.subject == subject)

    async def _evict_idle(self, subject: str | None, cap: str) -> None:
        idle = [
            u for u in self._live.values() if u.mux.in_flight == 0 and (subject is None or u.key.subject == subject)
        ]
        if not idle:
            raise CapacityExceededError(f"upstream connection limit reached ({cap})", headers={"retry-after": "5"})
        await self.close(min(idle, key=lambda u: u.last_used))

    async def reap_idle(self, now: float, idle_timeout: Callable[[UpstreamKey], float]) -> int:
        """Close connections with nothing in flight and no use for their server's idle timeout."""
        stale = [u for u in self._live.values() if u.mux.in_flight == 0 and now - u.last_used > idle_timeout(u.key)]
        for upstream in stale:
            log.info("%s: idle, stopping", upstream.connection.label)
            await self.close(upstream)
        return len(stale)
