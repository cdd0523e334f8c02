"""The database executor (our design, docs/adr/0006-bounded-database-work.md): bounded threads, bounded calls,
an outage logged once per transition. Real threads; the "database" is a blocking callable."""

from __future__ import annotations

import threading
from collections.abc import Callable

import anyio
import pytest
from sqlalchemy import exc

from app.config.database import DatabaseConfig
from app.db_executor import DbExecutor
from app.db_outage import DatabaseUnavailableError

pytestmark = pytest.mark.anyio

SHORT = 0.2


def _executor(workers: int = 2) -> DbExecutor:
    return DbExecutor(DatabaseConfig(workers=workers, call_timeout_seconds=SHORT, pool_timeout_seconds=SHORT))


def _refused() -> None:
    raise exc.OperationalError("SELECT 1", {}, ConnectionRefusedError())


async def test_a_call_that_outlasts_the_call_timeout_is_unavailable_with_retry_after() -> None:
    release = threading.Event()
    executor = _executor()
    with pytest.raises(DatabaseUnavailableError) as caught:
        await executor.run(lambda: release.wait(5))
    release.set()
    assert (caught.value.reason, caught.value.retry_after) == ("TimeoutError", 5)


async def test_stuck_calls_hold_at_most_the_configured_threads() -> None:
    release = threading.Event()
    running = 0
    most = 0
    lock = threading.Lock()

    def stuck() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        release.wait(5)
        with lock:
            running -= 1

    executor = _executor(workers=2)
    async with anyio.create_task_group() as calls:
        for _ in range(6):
            calls.start_soon(_expect_unavailable, executor, stuck)
    release.set()
    assert most == 2


async def test_a_refused_connection_is_unavailable_and_names_the_driver_error() -> None:
    with pytest.raises(DatabaseUnavailableError) as caught:
        await _executor().run(_refused)
    assert caught.value.reason == "ConnectionRefusedError"


async def test_other_errors_reach_the_caller_unchanged() -> None:
    def wrong() -> None:
        raise ValueError("a bug, not an outage")

    with pytest.raises(ValueError, match="a bug"):
        await _executor().run(wrong)


async def test_an_outage_is_logged_once_when_it_starts_and_once_when_it_ends(caplog: pytest.LogCaptureFixture) -> None:
    executor = _executor()
    for _ in range(3):
        await _expect_unavailable(executor, _refused)
    assert executor.outage.is_down
    assert await executor.run(lambda: 1) == 1
    await executor.run(lambda: 2)
    warnings = [r.getMessage() for r in caplog.records if r.name == "portico.db"]
    assert len(warnings) == 2
    assert warnings[0].startswith("database unavailable (ConnectionRefusedError)")
    assert warnings[1].startswith("database available again")
    assert all(r.exc_info is None for r in caplog.records)


async def _expect_unavailable(executor: DbExecutor, work: Callable[[], object]) -> None:
    with pytest.raises(DatabaseUnavailableError):
        await executor.run(work)
