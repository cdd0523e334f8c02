"""Upstream connections: one start per key, caps with idle eviction, crash handling, idle reaping."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import pytest

from proxy.upstream.pool import Upstream, UpstreamKey, UpstreamPool
from proxy.wire.errors import CapacityExceededError
from proxy.wire.outbox import Outbox

pytestmark = pytest.mark.anyio


class FakeConnection:
    started = 0

    def __init__(self) -> None:
        FakeConnection.started += 1
        self.label = f"fake{FakeConnection.started}"
        self.ended = anyio.Event()
        self.closed = False

    async def send(self, message: dict[str, Any]) -> None:
        return

    async def run(self, on_message: Callable[[object], None]) -> str:
        await self.ended.wait()
        return "exited with code 3"

    async def aclose(self) -> None:
        self.closed = True
        self.ended.set()


async def connect() -> FakeConnection:
    await anyio.sleep(0.01)
    return FakeConnection()


async def prepare(_upstream: Upstream) -> None:
    return


def key(subject: str | None, era: str = "modern") -> UpstreamKey:
    return UpstreamKey("s", subject, era)


async def test_concurrent_requests_for_one_key_start_one_connection() -> None:
    pool = UpstreamPool(max_total=10, max_per_user=10, start_timeout=5)
    async with pool.running():
        got: list[Upstream] = []

        async def acquire() -> None:
            got.append(await pool.acquire(key("1"), connect, prepare))

        async with anyio.create_task_group() as group:
            for _ in range(5):
                group.start_soon(acquire)
        assert len({id(u) for u in got}) == 1


async def test_at_the_per_user_cap_the_least_recently_used_idle_connection_is_closed() -> None:
    pool = UpstreamPool(max_total=10, max_per_user=2, start_timeout=5)
    async with pool.running():
        first = await pool.acquire(key("1", "a"), connect, prepare)
        await pool.acquire(key("1", "b"), connect, prepare)
        await pool.acquire(key("2", "a"), connect, prepare)
        await pool.acquire(key("1", "c"), connect, prepare)
        assert first.closed
        assert sorted((u.key.subject, u.key.era) for u in pool.live()) == [("1", "b"), ("1", "c"), ("2", "a")]


async def test_at_a_cap_with_everything_busy_the_request_is_refused_with_503() -> None:
    pool = UpstreamPool(max_total=1, max_per_user=5, start_timeout=5)
    async with pool.running():
        busy = await pool.acquire(key("1"), connect, prepare)
        await busy.mux.request({"jsonrpc": "2.0", "id": 1, "method": "x"}, outbox=Outbox(4, "t"), session=None)
        with pytest.raises(CapacityExceededError) as refused:
            await pool.acquire(key("2"), connect, prepare)
    assert refused.value.http_status == 503


async def test_a_connection_that_ends_fails_its_requests_and_leaves_the_pool() -> None:
    pool = UpstreamPool(max_total=10, max_per_user=10, start_timeout=5)
    async with pool.running():
        upstream = await pool.acquire(key("1"), connect, prepare)
        box = Outbox(4, "t")
        await upstream.mux.request({"jsonrpc": "2.0", "id": "r", "method": "x"}, outbox=box, session=None)
        upstream.connection.ended.set()  # type: ignore[attr-defined]
        with anyio.fail_after(2):
            item = await box.get()
        assert item is not None and item.message["error"]["code"] == -32004
        assert "exited with code 3" in item.message["error"]["message"]
        assert pool.live() == []


async def test_idle_connections_are_reaped() -> None:
    pool = UpstreamPool(max_total=10, max_per_user=10, start_timeout=5)
    async with pool.running():
        upstream = await pool.acquire(key("1"), connect, prepare)
        assert await pool.reap_idle(anyio.current_time(), lambda _key: 60.0) == 0
        assert await pool.reap_idle(anyio.current_time() + 61, lambda _key: 60.0) == 1
        assert upstream.closed and pool.live() == []


async def test_a_failed_preparation_closes_the_connection() -> None:
    async def refuse(_upstream: Upstream) -> None:
        raise CapacityExceededError("no")

    pool = UpstreamPool(max_total=10, max_per_user=10, start_timeout=5)
    async with pool.running():
        with pytest.raises(CapacityExceededError):
            await pool.acquire(key("1"), connect, refuse)
        assert pool.live() == []
