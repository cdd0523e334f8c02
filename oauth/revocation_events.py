"""Revocation events: how a running process learns of revocations other processes made (ADR 0009).

Every revocation is appended to ``revocation_events`` in the revoking transaction
(:mod:`oauth.store.revocation_events`). A :class:`RevocationEventSource` delivers those events to
this process's in-memory list (:class:`oauth.tokens.revocation_list.RevokedTokens`), which is all
the bearer check consults — the hot path does no database I/O for this. Sources:

- :class:`WatermarkPoll` (SQLite, the embedded default, where ``portico users disable`` is a
  separate process): every :data:`POLL_SECONDS` one indexed range query ``id > watermark`` on the
  log, off the request path. SQLite serialises writers, so ids become visible in order.
- :class:`PostgresListen` (PostgreSQL): ``LISTEN`` on a dedicated connection; the revoking
  transaction's ``NOTIFY`` carries the ``(jti, exp)`` pairs and arrives at commit. On every
  (re)connect it first re-reads every revoked token (``sync_revocations``), covering what was sent
  while it was not listening; it reconnects with backoff.

Either way the periodic full sync (:data:`oauth.housekeeping.REVOCATION_SYNC_SECONDS`) stays as the
fallback. A Redis pub/sub source (scale-out) fits the same Protocol.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from typing import Protocol

import anyio
from sqlalchemy.engine import make_url

from app.db import transaction
from app.db_executor import DbExecutor, executor_for
from app.db_outage import DatabaseUnavailableError
from oauth.store.revocation_events import (
    NOTIFY_CHANNEL,
    Revocation,
    events_after,
    latest_event_id,
    parse_notify_payload,
)
from oauth.tokens.context import TokenContext

log = logging.getLogger("portico.oauth")
POLL_SECONDS = 1.0
POLL_BATCH = 1000
RECONNECT_SECONDS = (1.0, 2.0, 5.0, 10.0)

Deliver = Callable[[Sequence[Revocation]], None]
"""Receives revoked ``(jti, exp)`` pairs (exp in epoch seconds); must not block."""


class RevocationEventSource(Protocol):
    """Delivers revocations recorded by any Portico process to this one, until cancelled."""

    async def run(self, deliver: Deliver) -> None:
        """Deliver events as they arrive; never returns normally; failures are logged and retried."""
        ...


def revocation_event_source(runtime: TokenContext, *, resync: Callable[[], None]) -> RevocationEventSource:
    """The source for the configured database: ``LISTEN`` on PostgreSQL, a watermark poll otherwise.

    ``resync`` re-reads every revoked token (blocking; run in a worker thread). Call this before the
    startup revocation sync, so that nothing recorded between that sync and the first poll is missed.
    """
    url = make_url(runtime.config.database_url)
    if url.get_backend_name() == "postgresql":
        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return PostgresListen(conninfo, resync, executor_for(runtime.engine))
    with transaction(runtime.db) as db:
        watermark = latest_event_id(db)
    return WatermarkPoll(runtime, watermark)


def deliver_to(runtime: TokenContext) -> Deliver:
    """Put delivered revocations on ``runtime.revoked_tokens``."""

    def deliver(revoked: Sequence[Revocation]) -> None:
        for jti, expires_at in revoked:
            runtime.revoked_tokens.revoke(jti, expires_at)

    return deliver


class WatermarkPoll:
    """Poll ``revocation_events`` for ids above the last one seen, every :data:`POLL_SECONDS`.

    Cost: one primary-key range query per second per process (well under a millisecond on SQLite),
    in a worker thread.
    """

    def __init__(self, runtime: TokenContext, watermark: int, *, interval: float = POLL_SECONDS) -> None:
        self._runtime = runtime
        self._watermark = watermark
        self._interval = interval

    async def run(self, deliver: Deliver) -> None:
        while True:
            await anyio.sleep(self._interval)
            while await self._poll(deliver) == POLL_BATCH:  # a burst: read on without waiting
                pass

    async def _poll(self, deliver: Deliver) -> int:
        """Deliver the events above the watermark (at most :data:`POLL_BATCH`); how many there were."""
        try:
            events = await executor_for(self._runtime.engine).run(self._read)
        except DatabaseUnavailableError:
            return 0  # the outage is logged once, on its transitions (app.db_outage); the next poll retries
        except Exception as error:  # e.g. the database is unreachable: the next poll retries
            log.warning("polling revocation events failed: %s; retrying", type(error).__name__)
            return 0
        if events:
            deliver([revocation for _id, revocation in events])
            self._watermark = events[-1][0]
        return len(events)

    def _read(self) -> list[tuple[int, Revocation]]:
        with transaction(self._runtime.db) as db:
            return events_after(db, self._watermark, limit=POLL_BATCH)


class PostgresListen:
    """``LISTEN portico_revocations`` on a dedicated autocommit connection, reconnecting with backoff."""

    def __init__(self, conninfo: str, resync: Callable[[], None], database: DbExecutor) -> None:
        self._conninfo = conninfo
        self._resync = resync
        self._database = database

    async def run(self, deliver: Deliver) -> None:
        import psycopg

        failures = 0
        while True:
            try:
                connect_timeout = self._database.config.connect_timeout_seconds
                async with await psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True, connect_timeout=connect_timeout
                ) as connection:
                    await connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    await self._database.run(self._resync, limit_seconds=math.inf)  # sent while not listening
                    failures = 0
                    async for notification in connection.notifies():
                        _deliver_payload(notification.payload, deliver)
            except Exception as error:  # psycopg, OSError, or the resync's database error
                delay = RECONNECT_SECONDS[min(failures, len(RECONNECT_SECONDS) - 1)]
                failures += 1
                log.warning("revocation notifications: %s; reconnecting in %.0f s", type(error).__name__, delay)
                await anyio.sleep(delay)


def _deliver_payload(payload: str, deliver: Deliver) -> None:
    try:
        revoked = parse_notify_payload(payload)
    except (ValueError, TypeError):
        log.warning("ignored a malformed revocation notification")
        return
    deliver(revoked)
