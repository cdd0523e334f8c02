"""Redis down → the in-process fallback, never an outage: bounded calls, a circuit breaker, one WARNING per
transition (never the URL, which may hold a password), a counted metric; Redis back → shared again."""

from __future__ import annotations

import logging
import signal
import time
from pathlib import Path

import anyio
import pytest

from app.config.redis import RedisConfig
from app.limits.buckets import Bucket
from app.limits.counts import LIMITED
from app.limits.redis_store import RedisStore
from tests.support.redis_server import redis_server

pytestmark = pytest.mark.anyio

T0 = 1_800_000_000.0
BUCKET = Bucket("b", rate=0.0001, burst=2, rule="r")


async def test_a_dead_redis_falls_back_in_process_and_comes_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="portico.limits")
    with redis_server(tmp_path) as server:
        port = server.port
        store = RedisStore(RedisConfig(url=server.url, timeout_ms=100, retry_seconds=0.3))
        try:
            assert await store.take([BUCKET], T0) is None  # in Redis: one token left there
            server.kill()
            before = LIMITED.fallbacks
            started = time.monotonic()
            fallback = [await store.take([BUCKET], T0) is None for _ in range(3)]
            elapsed = time.monotonic() - started
            assert store.is_down
            assert fallback == [True, True, False]  # the in-process bucket starts full: limits are per process
            assert elapsed < 0.5  # one bounded failure, then the breaker: no Redis call per check
            assert LIMITED.fallbacks - before == 3
            with redis_server(tmp_path, port=port):
                await anyio.sleep(0.35)  # past retry_seconds: the next check tries Redis again
                assert await store.take([BUCKET], T0) is None  # a fresh Redis: a full bucket
                assert not store.is_down
        finally:
            await store.aclose()
    messages = [r.getMessage() for r in caplog.records if r.name == "portico.limits"]
    assert len(messages) == 2, messages
    assert "per process" in messages[0] and "shared again" in messages[1]


async def test_the_url_and_its_password_are_never_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with redis_server(tmp_path) as server:
        url = f"redis://:sekrit-password@127.0.0.1:{server.port}/0"
        server.kill()
        store = RedisStore(RedisConfig(url=url, timeout_ms=50))
        try:
            assert await store.take([BUCKET], T0) is None
        finally:
            await store.aclose()
    assert store.is_down
    assert "sekrit" not in caplog.text and str(server.port) not in caplog.text


async def test_a_redis_that_stops_answering_costs_one_bounded_wait(tmp_path: Path) -> None:
    """A hung Redis (SIGSTOP: connections open, nothing answered) is bounded by ``timeout_ms``."""
    with redis_server(tmp_path) as server:
        store = RedisStore(RedisConfig(url=server.url, timeout_ms=100))
        try:
            assert await store.take([BUCKET], T0) is None
            server.process.send_signal(signal.SIGSTOP)
            try:
                started = time.monotonic()
                assert await store.take([BUCKET], T0) is None  # the fallback's full bucket
                hung = time.monotonic() - started
                started = time.monotonic()
                await store.take([BUCKET], T0)
                open_breaker = time.monotonic() - started
            finally:
                server.process.send_signal(signal.SIGCONT)
        finally:
            await store.aclose()
    assert store.is_down
    assert 0.09 < hung < 0.5 and open_breaker < 0.01
