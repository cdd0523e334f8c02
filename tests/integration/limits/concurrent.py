"""Concurrent callers spread over several Redis-backed stores, as workers or instances would be."""

from __future__ import annotations

import anyio

from app.limits.buckets import Bucket
from app.limits.redis_store import RedisStore


async def admissions(workers: list[RedisStore], bucket: Bucket, now: float, calls: int = 50) -> list[bool]:
    """``calls`` concurrent takes of ``bucket`` round-robin over ``workers`` (closed after): admitted or not."""
    results: list[bool] = []

    async def caller(worker: RedisStore) -> None:
        results.append(await worker.take([bucket], now) is None)

    try:
        async with anyio.create_task_group() as group:
            for index in range(calls):
                group.start_soon(caller, workers[index % len(workers)])
    finally:
        for worker in workers:
            await worker.aclose()
    return results
