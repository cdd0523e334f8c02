"""Database call cost: the dedicated executor (ADR 0006) vs anyio's thread pool vs SQLAlchemy asyncio + psycopg async.

Each call is one transaction running ``SELECT 1`` on PostgreSQL (``PORTICO_TEST_DATABASE_URL`` or
``--url``), the shape of Portico's short OAuth reads. Measured at fixed concurrency (1 and 20 callers),
wall-clock latency per call as the awaiting task sees it (thread hop or async driver included).
Not part of ``make bench``: ``python -m bench.db_executor [--calls N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable

import anyio.to_thread
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.config.database import DatabaseConfig
from app.db import create_db_engine, session_factory, transaction
from app.db_executor import DbExecutor

Call = Callable[[], Awaitable[object]]


async def _measure(call: Call, calls: int, concurrency: int) -> tuple[float, float, float]:
    """p50 and p99 latency (ms) and calls per second over ``calls`` calls by ``concurrency`` callers."""
    latencies: list[float] = []
    remaining = calls

    async def caller() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return statistics.median(ordered) * 1000, p99 * 1000, calls / seconds


async def main(url: str, calls: int) -> None:
    bounds = DatabaseConfig()
    engine = create_db_engine(url, bounds)
    factory = session_factory(engine)
    executor = DbExecutor(bounds)
    async_engine = create_async_engine(url, pool_size=bounds.pool_size, max_overflow=bounds.max_overflow)

    def select_one() -> object:
        with transaction(factory) as db:
            return db.execute(text("SELECT 1")).scalar()

    async def on_executor() -> object:
        return await executor.run(select_one)

    async def on_anyio_threads() -> object:
        return await anyio.to_thread.run_sync(select_one)

    async def on_async_driver() -> object:
        async with async_engine.begin() as connection:
            return (await connection.execute(text("SELECT 1"))).scalar()

    cases: dict[str, Call] = {
        "dedicated executor (ADR 0006)": on_executor,
        "anyio default thread pool (before)": on_anyio_threads,
        "SQLAlchemy asyncio + psycopg async": on_async_driver,
    }
    print("| path | callers | p50 ms | p99 ms | calls/s |\n|---|---|---|---|---|")
    for concurrency in (1, 20):
        for name, call in cases.items():
            await _measure(call, 50, concurrency)  # warm the pool
            p50, p99, rate = await _measure(call, calls, concurrency)
            print(f"| {name} | {concurrency} | {p50:.2f} | {p99:.2f} | {rate:.0f} |")
    await async_engine.dispose()
    engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default=os.environ.get("PORTICO_TEST_DATABASE_URL", ""))
    parser.add_argument("--calls", type=int, default=2000)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.url, arguments.calls))
