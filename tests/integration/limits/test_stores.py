"""Token buckets and quota windows, the same on both stores: in process and in a real (test-owned) Redis.

The arithmetic (burst, refill, ``retry_after`` rounded up, all-or-nothing across a check's items,
a quota window ending at its boundary) and, under 50 concurrent callers, no over-admission: the
Lua script is atomic, so two stores ("workers") sharing one Redis admit exactly ``burst``.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Sequence

import anyio
import pytest

from app.config.redis import RedisConfig
from app.limits.buckets import Bucket, Counter, Item, Refusal
from app.limits.limiter import InProcessStore, LimitStore
from app.limits.redis_store import RedisStore
from tests.integration.limits.concurrent import admissions
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.anyio

T0 = 1_800_000_000.0


def redis_store(server: RedisServer, prefix: str, **options: float) -> RedisStore:
    return RedisStore(RedisConfig(url=server.url, key_prefix=prefix, timeout_ms=2000, **options))


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[LimitStore]:
    if request.param == "memory":
        yield InProcessStore()
        return
    server: RedisServer = request.getfixturevalue("shared_redis")
    opened = redis_store(server, f"t{secrets.token_hex(4)}:")
    try:
        yield opened
        assert not opened.is_down, "answered by the in-process fallback, not by Redis"
    finally:
        await opened.aclose()


async def admitted(store: LimitStore, items: Sequence[Item], now: float, times: int) -> list[bool]:
    return [await store.take(items, now) is None for _ in range(times)]


async def test_a_bucket_admits_its_burst_then_refills_at_its_rate(store: LimitStore) -> None:
    bucket = Bucket("b", rate=0.5, burst=3, rule="r")  # one token every 2 s
    assert await admitted(store, [bucket], T0, 4) == [True, True, True, False]
    assert await store.take([bucket], T0 + 1.0) == Refusal("r", 1)  # half a token: 1 s more
    assert await admitted(store, [bucket], T0 + 2.0, 2) == [True, False]
    assert await admitted(store, [bucket], T0 + 100.0, 4) == [True, True, True, False]  # never above burst


async def test_retry_after_is_whole_seconds_rounded_up(store: LimitStore) -> None:
    bucket = Bucket("slow", rate=1 / 3600, burst=1, rule="hourly")
    await store.take([bucket], T0)
    assert await store.take([bucket], T0 + 0.5) == Refusal("hourly", 3600)  # 3599.5 s → 3600


async def test_a_refused_check_takes_from_none_of_its_items(store: LimitStore) -> None:
    wide = Bucket("wide", rate=0.001, burst=10, rule="wide")
    narrow = Bucket("narrow", rate=0.001, burst=1, rule="narrow")
    assert await store.take([wide, narrow], T0) is None
    refusals = [await store.take([wide, narrow], T0) for _ in range(5)]
    assert {r.rule for r in refusals if r is not None} == {"narrow"}
    assert await admitted(store, [wide], T0, 10) == [True] * 9 + [False]  # only the one admitted check took


async def test_the_longest_wait_names_the_refusal(store: LimitStore) -> None:
    fast = Bucket("f", rate=1.0, burst=1, rule="fast")
    slow = Bucket("s", rate=0.01, burst=1, rule="slow")
    await store.take([fast, slow], T0)
    assert await store.take([fast, slow], T0) == Refusal("slow", 100)


async def test_a_quota_window_refuses_until_its_end_then_starts_again(store: LimitStore) -> None:
    day = Counter("q", limit=2, window_end=T0 + 600, rule="daily")
    assert await admitted(store, [day], T0, 3) == [True, True, False]
    assert await store.take([day], T0 + 100) == Refusal("daily", 500, quota=True)
    following = Counter("q2", limit=2, window_end=T0 + 600 + 86400, rule="daily")  # the next window's key
    assert await admitted(store, [following], T0 + 600, 3) == [True, True, False]


async def test_50_concurrent_callers_never_get_more_than_the_burst(store: LimitStore) -> None:
    bucket = Bucket("hot", rate=0.0001, burst=20, rule="hot")
    results: list[bool] = []

    async def caller() -> None:
        results.append(await store.take([bucket], T0) is None)

    async with anyio.create_task_group() as group:
        for _ in range(50):
            group.start_soon(caller)
    assert results.count(True) == 20


async def test_two_workers_sharing_one_redis_admit_the_burst_once(shared_redis: RedisServer) -> None:
    """50 callers split over two stores with their own connections ("two workers"): exactly ``burst``."""
    prefix = f"w{secrets.token_hex(4)}:"
    workers = [redis_store(shared_redis, prefix), redis_store(shared_redis, prefix)]
    bucket = Bucket("shared", rate=0.0001, burst=20, rule="shared")
    results = await admissions(workers, bucket, T0)
    assert results.count(True) == 20 and len(results) == 50
