"""The database executor: a bounded set of threads that runs every blocking database call.

Database work never borrows anyio's default thread limiter (shared with Starlette and FastAPI), so a
silent database can hold at most ``database.workers`` threads; endpoints that need no database keep
answering. Each call is bounded as its caller sees it (``database.call_timeout_seconds``, queue wait
included): on expiry the caller gets :class:`~app.db_outage.DatabaseUnavailableError` and the thread
finishes (or fails) on its own, bounded by the driver's timeouts. The threads are daemons: a
stuck database never holds up process exit. See docs/adr/0006-bounded-database-work.md.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

import anyio
from sqlalchemy import Engine

from app.config.database import DatabaseConfig
from app.db_outage import UNAVAILABILITY, DatabaseUnavailableError, OutageLog, reason_of

T = TypeVar("T")

_Job = tuple["Future[Any]", Callable[[], Any]]


class DbExecutor:
    """Runs blocking calls on at most ``config.workers`` daemon threads (started on demand)."""

    def __init__(self, config: DatabaseConfig) -> None:
        self.config = config
        self.outage = OutageLog()
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0

    async def run(self, work: Callable[[], T], *, limit_seconds: float | None = None) -> T:
        """``work()`` on a database thread, awaited for at most ``limit_seconds`` (default: the call timeout).

        Raises:
            DatabaseUnavailableError: the call expired, or ``work`` failed with one of
                :data:`~app.db_outage.UNAVAILABILITY`; any other exception of ``work`` unchanged.
        """
        limit = self.config.call_timeout_seconds if limit_seconds is None else limit_seconds
        future: Future[T] = Future()
        self._jobs.put((future, work))
        self._add_thread()
        try:
            with anyio.fail_after(limit):
                result = await asyncio.wrap_future(future)
        except UNAVAILABILITY as error:
            future.cancel()  # still queued: never run it
            raise self._unavailable(reason_of(error)) from None
        self.outage.answered()
        return result

    def _unavailable(self, reason: str) -> DatabaseUnavailableError:
        self.outage.failed(reason)
        return DatabaseUnavailableError(reason, self.config.retry_after_seconds)

    def _add_thread(self) -> None:
        with self._lock:
            if self._threads >= self.config.workers:
                return
            self._threads += 1
            number = self._threads
        threading.Thread(target=self._serve, name=f"portico-db-{number}", daemon=True).start()

    def _serve(self) -> None:
        while True:
            future, work = self._jobs.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = work()
            except BaseException as error:  # noqa: BLE001 - handed to the awaiting caller
                future.set_exception(error)
            else:
                future.set_result(result)


_executors: weakref.WeakKeyDictionary[Engine, DbExecutor] = weakref.WeakKeyDictionary()
_registry_lock = threading.Lock()


def attach_executor(engine: Engine, config: DatabaseConfig) -> DbExecutor:
    """Give ``engine`` its own executor, bounded by ``config`` (done by :func:`app.db.create_db_engine`)."""
    executor = DbExecutor(config)
    with _registry_lock:
        _executors[engine] = executor
    return executor


def executor_for(engine: Engine) -> DbExecutor:
    """The executor of ``engine``; one with the default bounds if none was attached."""
    with _registry_lock:
        executor = _executors.get(engine)
        if executor is None:
            executor = _executors[engine] = DbExecutor(DatabaseConfig())
        return executor
