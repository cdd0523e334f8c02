"""The audit pipeline: observe records, queue them (bounded), drain them in batches off the hot path.

:class:`AuditTrail` is an :class:`~app.observe.bus.McpObserver` and :class:`~app.observe.bus.AuthObserver`:
observing is one ``deque.append`` (thread-safe, so the CLI and database threads may emit too). A
background task (:meth:`AuditTrail.run`, started by the app's lifespan) wakes every
``audit.flush_interval`` seconds and writes what is queued in batches of ``audit.batch_size``.
Nothing is lost silently:

- queue full (``audit.queue_size``): the record is dropped and counted (:attr:`AuditTrail.dropped`,
  :func:`dropped_total` for ``portico_audit_dropped_total``); one WARNING per interval says how many;
- database unavailable: the batch stays queued and is retried next interval (the outage itself is
  logged by :mod:`app.db_outage`); new records still queue up to the bound;
- shutdown: :meth:`AuditTrail.close` flushes the queue, bounded by a timeout; a remainder is logged.

ADR 0018.
"""

from __future__ import annotations

import functools
import logging
import time
from collections import deque
from collections.abc import Sequence
from itertools import islice
from typing import Any

import anyio
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.audit.rows import auth_row, mcp_row
from app.audit.sinks import JsonlSink, delete_before, insert_rows, retention_cutoff
from app.clock import Clock
from app.config.audit import AuditConfig
from app.db import transaction
from app.db_executor import executor_for
from app.db_outage import DatabaseUnavailableError
from app.observe.records import AuthEvent, McpRequestRecord

log = logging.getLogger("portico.audit")
RETENTION_EVERY_SECONDS = 3600.0
_dropped_total = 0


def dropped_total() -> int:
    """Audit records dropped by every trail of this process since it started (a monotonic counter)."""
    return _dropped_total


class AuditTrail:
    """The queue and its drainer. ``db`` None: no database sink (``audit.sink: jsonl``)."""

    def __init__(self, config: AuditConfig, db: sessionmaker[Session] | None, clock: Clock) -> None:
        self.config = config
        self.db = db
        self.clock = clock
        self.jsonl = JsonlSink(config.jsonl_path) if config.to_jsonl else None
        self.dropped = 0
        self._unwarned = 0
        self._queue: deque[McpRequestRecord | AuthEvent] = deque()
        self._redact = frozenset(k.lower() for k in config.redact_keys) if config.include_arguments else None
        self._next_retention = 0.0

    # observers: called on the request path, so an append and nothing else

    def mcp_request(self, record: McpRequestRecord) -> None:
        self._put(record)

    def auth_event(self, event: AuthEvent) -> None:
        self._put(event)

    def _put(self, item: McpRequestRecord | AuthEvent) -> None:
        global _dropped_total
        if len(self._queue) >= self.config.queue_size:
            self.dropped += 1
            self._unwarned += 1
            _dropped_total += 1
            return
        self._queue.append(item)

    @property
    def queued(self) -> int:
        return len(self._queue)

    # the drainer

    async def run(self) -> None:
        """Drain every ``flush_interval`` seconds (and apply retention hourly) until cancelled."""
        while True:
            await anyio.sleep(self.config.flush_interval)
            self.warn_dropped()
            await self.drain()
            if self.db is not None and time.monotonic() >= self._next_retention:
                self._next_retention = time.monotonic() + RETENTION_EVERY_SECONDS
                await self._retention()

    def warn_dropped(self) -> None:
        if self._unwarned:
            log.warning(
                "audit queue full (audit.queue_size=%d): dropped %d record(s) since the last warning",
                self.config.queue_size,
                self._unwarned,
            )
            self._unwarned = 0

    async def drain(self) -> bool:
        """Write everything queued now, batch by batch; False when a sink failed (the rest stays queued)."""
        while self._queue:
            items = list(islice(self._queue, self.config.batch_size))
            rows = [self._row(item) for item in items]
            try:
                await self._write(rows)
            except DatabaseUnavailableError:
                return False  # kept; retried next interval
            except Exception:
                log.exception("audit: writing %d record(s) failed; retrying next interval", len(rows))
                return False
            for _ in items:
                self._queue.popleft()
        return True

    async def close(self, within_seconds: float) -> None:
        """Flush the queue at shutdown for at most ``within_seconds``; logs what could not be written."""
        self.warn_dropped()
        with anyio.move_on_after(within_seconds):
            while self._queue and not await self.drain():  # noqa: ASYNC110 - retrying a failed sink, no event
                await anyio.sleep(min(self.config.flush_interval, 0.2))
        if self._queue:
            log.error("audit: %d record(s) could not be written before shutdown", len(self._queue))

    def _row(self, item: McpRequestRecord | AuthEvent) -> dict[str, Any]:
        return mcp_row(item, self._redact) if isinstance(item, McpRequestRecord) else auth_row(item)

    async def _write(self, rows: Sequence[dict[str, Any]]) -> None:
        if self.db is not None:
            await executor_for(_engine(self.db)).run(functools.partial(_insert, self.db, rows))
        if self.jsonl is not None:
            await anyio.to_thread.run_sync(self.jsonl.write, rows)

    async def _retention(self) -> None:
        assert self.db is not None
        try:
            await executor_for(_engine(self.db)).run(functools.partial(self.apply_retention))
        except DatabaseUnavailableError:
            self._next_retention = 0.0
        except Exception:
            log.exception("audit retention failed; retrying later")

    def apply_retention(self) -> int:
        """Delete rows older than ``audit.retention_days`` (blocking); returns how many went."""
        assert self.db is not None
        with transaction(self.db) as db:
            deleted = delete_before(db, retention_cutoff(self.clock.now(), self.config.retention_days))
        if deleted:
            log.info("audit: deleted %d record(s) older than %d day(s)", deleted, self.config.retention_days)
        return deleted


def _engine(factory: sessionmaker[Session]) -> Engine:
    engine: Engine = factory.kw["bind"]
    return engine


def _insert(factory: sessionmaker[Session], rows: Sequence[dict[str, Any]]) -> None:
    with transaction(factory) as db:
        insert_rows(db, rows)
