"""Two Portico instances sharing one (test-owned) Redis enforce one limit: 50 concurrent ``tools/call``
split across them never admit more than the burst (issue #21; the Lua script is atomic, docs/limits.md
§Stores and exactness). A slow rule (lease of 1) admits exactly the burst; a fast one, whose tokens each
instance leases ``k`` at a time, admits at least ``burst − (k − 1) × 2`` (tokens one instance leased and
the other could not use). The clock is frozen, so no token is refilled during the test."""

from __future__ import annotations

import secrets
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from app.config.rate_limits import RateLimitRuleConfig
from app.limits.lease import lease_size
from app.limits.redis_store import RedisStore
from app.limits.rules import Identity, Rule
from proxy.limits.errors import RATE_LIMITED
from tests.integration.proxy.gateway.harness import (
    Portico,
    fixture_stdio_server,
    modern_body,
    modern_headers,
    serve_portico,
)
from tests.support.clock import FakeClock
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.anyio

WHO = Identity("someone", None, None)

EXACT = {"name": "echo-burst", "key": "user+tool", "servers": ["fx"], "tools": ["echo"], "rate": "1/hour", "burst": 20}
LEASED = {**EXACT, "rate": "1000/second", "burst": 40}  # k = 4 (a tenth of the burst)


@pytest.mark.parametrize(("rule", "k"), [(EXACT, 1), (LEASED, 4)], ids=["exact", "leased"])
async def test_50_concurrent_calls_across_two_instances_never_admit_more_than_the_burst(
    tmp_path: Path, shared_redis: RedisServer, rule: dict[str, Any], k: int
) -> None:
    bucket = Rule.of(RateLimitRuleConfig.model_validate(rule)).bucket("fx", "echo", WHO)
    assert lease_size(bucket) == k
    clock = FakeClock(datetime.now(UTC))
    # timeout_ms: generous on a loaded test machine, so no check falls back to the per-process store
    redis = {"url": shared_redis.url, "key_prefix": f"i{secrets.token_hex(4)}:", "timeout_ms": 3000}
    statuses: list[int] = []
    async with AsyncExitStack() as stack:
        instances: list[Portico] = []
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            instances.append(
                await stack.enter_async_context(
                    serve_portico(
                        tmp_path / name,
                        {"fx": fixture_stdio_server()},
                        limits={"rules": [rule]},
                        redis=redis,
                        clock=clock,
                    )
                )
            )
        http = await stack.enter_async_context(httpx2.AsyncClient(timeout=60))
        body = modern_body("tools/call", {"name": "echo", "arguments": {"text": "x"}})

        async def call(portico: Portico) -> None:
            headers = {**portico.headers("fx"), **modern_headers("tools/call", "echo")}
            answer = await http.post(portico.url("fx"), json=body, headers=headers)
            if answer.status_code == 429:
                assert answer.json()["error"]["code"] == RATE_LIMITED
            statuses.append(answer.status_code)

        async with anyio.create_task_group() as group:
            for index in range(50):
                group.start_soon(call, instances[index % 2])
        for portico in instances:
            store = portico.gateway.limiter.store
            assert isinstance(store, RedisStore) and not store.is_down  # every check was answered by Redis
    assert len(statuses) == 50 and set(statuses) <= {200, 429}
    assert bucket.burst - (k - 1) * 2 <= statuses.count(200) <= bucket.burst
