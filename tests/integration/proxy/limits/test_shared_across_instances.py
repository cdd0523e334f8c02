"""Two Portico instances sharing one (test-owned) Redis enforce one limit: 50 concurrent ``tools/call``
split across them admit exactly the burst (issue #21; the Lua script is atomic, docs/limits.md §Exactness)."""

from __future__ import annotations

import secrets
from contextlib import AsyncExitStack
from pathlib import Path

import anyio
import httpx2
import pytest

from app.limits.redis_store import RedisStore
from proxy.limits.errors import RATE_LIMITED
from tests.integration.proxy.gateway.harness import (
    Portico,
    fixture_stdio_server,
    modern_body,
    modern_headers,
    serve_portico,
)
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.anyio

RULE = {"name": "echo-burst", "key": "user+tool", "servers": ["fx"], "tools": ["echo"], "rate": "1/hour", "burst": 20}


async def test_50_concurrent_calls_across_two_instances_admit_the_burst_once(
    tmp_path: Path, shared_redis: RedisServer
) -> None:
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
                        tmp_path / name, {"fx": fixture_stdio_server()}, limits={"rules": [RULE]}, redis=redis
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
    assert sorted(statuses) == [200] * 20 + [429] * 30
