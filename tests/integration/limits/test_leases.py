"""Locally pre-granted tokens (app/limits/lease.py) against a real (test-owned) Redis.

A fast rule's first check leases ``k`` tokens in its one Lua call; the next ``k − 1`` checks cost no
Redis command (counted with ``INFO commandstats``); leases expire after a second; several rules stay
all-or-none; quotas are never leased; ``lease`` off is exact; under 50 concurrent callers over two
stores the shared bucket is never over-spent. Our own design (issue #21 allows pre-granted tokens
"if exactness is documented": docs/limits.md §Stores and exactness).
"""

from __future__ import annotations

import secrets
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from redis.asyncio import Redis

from app.config.redis import RedisConfig
from app.limits.buckets import Bucket, Counter, Refusal
from app.limits.counts import LIMITED
from app.limits.lease import LEASE_SECONDS, lease_size
from app.limits.redis_store import SCRIPT, RedisStore
from tests.integration.limits.concurrent import admissions
from tests.support.redis_server import RedisServer, redis_server

pytestmark = pytest.mark.anyio

T0 = 1_800_000_000.0
FAST = Bucket("fast", rate=1000.0, burst=1000, rule="fast")  # k = 16
SMALL = Bucket("small", rate=1000.0, burst=40, rule="small")  # k = 4 (a tenth of the burst)
SLOW = Bucket("slow", rate=0.001, burst=1, rule="slow")  # k = 1: exact


def store_on(server: RedisServer, prefix: str, *, lease: bool = True) -> RedisStore:
    return RedisStore(RedisConfig(url=server.url, key_prefix=prefix, timeout_ms=2000), lease=lease)


@pytest.fixture
def prefix() -> str:
    return f"l{secrets.token_hex(4)}:"


@pytest.fixture
async def inspector(shared_redis: RedisServer) -> AsyncIterator[Redis]:
    """A separate client that reads what the store did (commands counted by Redis itself)."""
    client = Redis.from_url(shared_redis.url, decode_responses=True)
    await client.script_load(SCRIPT)  # so a store's first EVALSHA is its only command
    try:
        yield client
    finally:
        await client.aclose()


async def script_calls(inspector: Redis) -> int:
    stats = await inspector.info("commandstats")
    return sum(int(stats.get(name, {}).get("calls", 0)) for name in ("cmdstat_evalsha", "cmdstat_eval"))


async def tokens_in_redis(inspector: Redis, prefix: str, bucket: Bucket) -> float:
    tokens = await inspector.hget(prefix + bucket.key, "t")
    assert tokens is not None
    return float(tokens)


def test_the_lease_size_follows_the_rule() -> None:
    assert [lease_size(b) for b in (FAST, SMALL, SLOW)] == [16, 4, 1]


async def test_a_lease_answers_the_next_checks_without_a_redis_call(
    shared_redis: RedisServer, inspector: Redis, prefix: str
) -> None:
    store = store_on(shared_redis, prefix)
    try:
        before = await script_calls(inspector)
        assert await store.take([FAST], T0) is None
        assert await tokens_in_redis(inspector, prefix, FAST) == 1000 - 16  # the request's token and 15 more
        assert await script_calls(inspector) - before == 1
        assert [await store.take([FAST], T0) for _ in range(15)] == [None] * 15
        assert await script_calls(inspector) - before == 1  # 15 checks, no command
        assert await store.take([FAST], T0) is None  # the lease is spent: the next one takes another
        assert await script_calls(inspector) - before == 2
        assert await tokens_in_redis(inspector, prefix, FAST) == 1000 - 32
    finally:
        await store.aclose()


async def test_leased_tokens_expire_unspent(shared_redis: RedisServer, inspector: Redis, prefix: str) -> None:
    store = store_on(shared_redis, prefix)
    assert store.leases is not None
    try:
        assert await store.take([FAST], T0) is None
        assert store.leases.held(FAST.key, T0 + LEASE_SECONDS - 0.01) == 15
        assert store.leases.held(FAST.key, T0 + LEASE_SECONDS) == 0
        before = await script_calls(inspector)
        assert await store.take([FAST], T0 + LEASE_SECONDS) is None
        assert await script_calls(inspector) - before == 1  # expired: Redis again, a new lease
        assert store.leases.held(FAST.key, T0 + LEASE_SECONDS) == 15
        assert store.leases.held(FAST.key, T0 - 5.0) == 0  # a clock gone back does not stretch a lease
    finally:
        await store.aclose()


async def test_a_check_is_local_only_when_every_rule_has_a_leased_token(
    shared_redis: RedisServer, inspector: Redis, prefix: str
) -> None:
    store = store_on(shared_redis, prefix)
    assert store.leases is not None
    try:
        assert await store.take([FAST, SMALL], T0) is None  # leases 16 and 4
        before = await script_calls(inspector)
        assert [await store.take([FAST, SMALL], T0) for _ in range(3)] == [None] * 3
        assert await script_calls(inspector) == before  # both held a token: local
        assert await store.take([FAST, SMALL], T0) is None  # SMALL has none left: one call, for SMALL
        assert await script_calls(inspector) - before == 1
        assert await tokens_in_redis(inspector, prefix, FAST) == 1000 - 16  # FAST's token was a held one
        assert await tokens_in_redis(inspector, prefix, SMALL) == 40 - 8  # SMALL leased again
        assert (store.leases.held(FAST.key, T0), store.leases.held(SMALL.key, T0)) == (11, 3)
    finally:
        await store.aclose()


async def test_a_refusal_by_one_rule_spends_no_leased_token_of_another(
    shared_redis: RedisServer, inspector: Redis, prefix: str
) -> None:
    store = store_on(shared_redis, prefix)
    assert store.leases is not None
    try:
        assert await store.take([FAST, SLOW], T0) is None
        assert store.leases.held(FAST.key, T0) == 15
        assert await store.take([FAST, SLOW], T0 + 0.5) == Refusal("slow", 1000)  # from Redis's state
        assert store.leases.held(FAST.key, T0 + 0.5) == 15  # all or none: nothing spent locally
        assert await tokens_in_redis(inspector, prefix, FAST) == 1000 - 16  # nor in Redis
        assert await store.take([FAST], T0 + 0.5) is None  # the lease still serves FAST alone
        assert store.leases.held(FAST.key, T0 + 0.5) == 14
    finally:
        await store.aclose()


async def test_quotas_are_never_leased(shared_redis: RedisServer, inspector: Redis, prefix: str) -> None:
    store = store_on(shared_redis, prefix)
    daily = Counter("q", limit=100, window_end=T0 + 3600, rule="daily")
    try:
        before = await script_calls(inspector)
        assert [await store.take([FAST, daily], T0) for _ in range(5)] == [None] * 5
        assert await script_calls(inspector) - before == 5  # a quota's count is taken in Redis each time
        assert await inspector.get(prefix + daily.key) == "5"
        assert await tokens_in_redis(inspector, prefix, FAST) == 1000 - 16  # FAST leased once, then spent it
        assert store.leases is not None and store.leases.held(FAST.key, T0) == 11
    finally:
        await store.aclose()


async def test_lease_off_takes_one_token_per_check_in_redis(
    shared_redis: RedisServer, inspector: Redis, prefix: str
) -> None:
    store = store_on(shared_redis, prefix, lease=False)
    assert store.leases is None
    try:
        before = await script_calls(inspector)
        assert [await store.take([FAST], T0) for _ in range(5)] == [None] * 5
        assert await script_calls(inspector) - before == 5
        assert await tokens_in_redis(inspector, prefix, FAST) == 1000 - 5
    finally:
        await store.aclose()


async def test_50_concurrent_callers_over_two_leasing_stores_never_exceed_the_burst(
    shared_redis: RedisServer, inspector: Redis, prefix: str
) -> None:
    """Admitted ≤ burst (never over-admits) and ≥ burst − (k − 1) × 2 (the documented tolerance)."""
    workers = [store_on(shared_redis, prefix), store_on(shared_redis, prefix)]
    results = await admissions(workers, SMALL, T0)
    assert len(results) == 50 and not any(w.is_down for w in workers)
    assert 40 - (lease_size(SMALL) - 1) * 2 <= results.count(True) <= 40
    assert await tokens_in_redis(inspector, prefix, SMALL) < 1  # the shared bucket is spent, never below 0
    assert await tokens_in_redis(inspector, prefix, SMALL) >= 0


async def test_leased_tokens_are_spent_while_redis_is_down(tmp_path: Path) -> None:
    with redis_server(tmp_path) as server:
        store = RedisStore(RedisConfig(url=server.url, timeout_ms=100, retry_seconds=30))
        try:
            assert await store.take([SMALL], T0) is None  # 3 leased
            server.kill()
            before = LIMITED.fallbacks
            assert [await store.take([SMALL], T0) for _ in range(3)] == [None] * 3
            assert LIMITED.fallbacks == before and not store.is_down  # granted tokens: no Redis, no fallback
            assert await store.take([SMALL], T0) is None  # none left: Redis fails, the fallback answers
            assert store.is_down and LIMITED.fallbacks - before == 1
        finally:
            await store.aclose()


async def test_a_cancelled_check_gives_its_reserved_tokens_back(tmp_path: Path) -> None:
    """A check cancelled while Redis is hung (SIGSTOP) spends none of the tokens it reserved here."""
    with redis_server(tmp_path) as server:
        store = RedisStore(RedisConfig(url=server.url, timeout_ms=2000))
        assert store.leases is not None
        try:
            assert await store.take([FAST], T0) is None
            server.process.send_signal(signal.SIGSTOP)
            try:
                with anyio.move_on_after(0.2) as scope:
                    await store.take([FAST, SMALL], T0)  # FAST reserved here, SMALL waits for Redis
                assert scope.cancelled_caught
            finally:
                server.process.send_signal(signal.SIGCONT)
            assert store.leases.held(FAST.key, T0) == 15
            assert await store.take([SMALL], T0) is None  # the fetch in flight ended: SMALL leases again
            assert store.leases.held(SMALL.key, T0) == 3
        finally:
            await store.aclose()
