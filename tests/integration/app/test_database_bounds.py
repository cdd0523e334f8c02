"""Database work is bounded (#14 findings 1 and 2): a stuck database never starves endpoints that need none.

Our own design (docs/adr/0006-bounded-database-work.md): database calls run on their own
``database.workers`` threads, so with many requests stuck on a silent database, the authorization
server metadata (RFC 8414) and ``/healthz`` still answer; ``/readyz`` answers 503 within
``database.readiness_timeout_seconds``; SQLite waits for a lock at most its busy timeout.
"""

from __future__ import annotations

import functools
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import anyio
import httpx2
import pytest

from tests.support.databases import isolated_postgres_database
from tests.support.oauth import CLAUDE_CALLBACK
from tests.support.portico import run_portico
from tests.support.processes import Process
from tests.support.tcp_proxy import TcpProxy, proxied_database

pytestmark = pytest.mark.anyio

STUCK_CALL_TIMEOUT = 30.0  # long: the stuck requests must outlive the checks made meanwhile
STUCK_REQUESTS = 60
NO_DATABASE_BOUND = 10.0  # well under STUCK_CALL_TIMEOUT: answered while the others are still stuck
READINESS_TIMEOUT = 1.0


@pytest.fixture
def stuck(tmp_path: Path) -> Iterator[tuple[Process, TcpProxy]]:
    """Portico on PostgreSQL through a proxy, with waits long enough to keep requests stuck in a blackhole."""
    database = {
        "connect_timeout_seconds": 30,
        "pool_timeout_seconds": STUCK_CALL_TIMEOUT,
        "call_timeout_seconds": STUCK_CALL_TIMEOUT,
        "readiness_timeout_seconds": READINESS_TIMEOUT,
    }
    with isolated_postgres_database() as database_url, proxied_database(database_url) as (proxy, proxied_url):
        with run_portico(tmp_path, {"database": database}, database_url=proxied_url) as portico:
            yield portico, proxy
            proxy.restore()  # frees the stuck requests before Portico stops


@pytest.mark.postgres
async def test_requests_stuck_on_a_silent_database_leave_endpoints_without_one_answering(
    stuck: tuple[Process, TcpProxy],
) -> None:
    """Finding 2: ~60 requests hung on the database used to exhaust the shared worker threads, and the
    metadata document (no database) timed out; now it and /healthz answer while those are still stuck."""
    portico, proxy = stuck
    limits = httpx2.Limits(max_connections=STUCK_REQUESTS + 10)
    async with (
        httpx2.AsyncClient(base_url=portico.base_url, timeout=STUCK_CALL_TIMEOUT * 3, limits=limits) as http,
        anyio.create_task_group() as requests,
    ):
        proxy.blackhole()
        for _ in range(STUCK_REQUESTS):
            requests.start_soon(functools.partial(http.post, "/register", json={"redirect_uris": [CLAUDE_CALLBACK]}))
        await _wait_for_stuck_connections(proxy)
        async with httpx2.AsyncClient(base_url=portico.base_url, timeout=NO_DATABASE_BOUND) as fresh:
            metadata = await fresh.get("/.well-known/oauth-authorization-server")
            health = await fresh.get("/healthz")
            ready = await fresh.get("/readyz")
        assert metadata.status_code == 200
        assert metadata.json()["issuer"] == portico.base_url
        assert health.status_code == 200
        assert ready.status_code == 503
        proxy.restore()


@pytest.mark.postgres
async def test_readyz_answers_503_within_its_own_timeout_on_a_silent_database(stuck: tuple[Process, TcpProxy]) -> None:
    """Finding 1 (/readyz hung 40 s+): readiness is bounded by readiness_timeout_seconds, not the call timeout."""
    portico, proxy = stuck
    proxy.blackhole()
    async with httpx2.AsyncClient(base_url=portico.base_url, timeout=STUCK_CALL_TIMEOUT) as http:
        started = time.monotonic()
        ready = await http.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] == "unreachable"
    assert time.monotonic() - started < READINESS_TIMEOUT * 3


async def test_a_locked_sqlite_database_gets_503_after_the_busy_timeout(tmp_path: Path) -> None:
    """Finding 1 on SQLite: a writer held up by another process's lock waits the busy timeout, then 503."""
    database = {"sqlite_busy_timeout_seconds": 1, "call_timeout_seconds": 3, "pool_timeout_seconds": 3}
    path = tmp_path / "portico.db"
    with run_portico(tmp_path, {"database": database}, database_url=f"sqlite:///{path}") as portico:
        with closing(sqlite3.connect(path, isolation_level=None)) as holder:
            holder.execute("BEGIN EXCLUSIVE")  # as a long write by another process would
            async with httpx2.AsyncClient(base_url=portico.base_url, timeout=30) as http:
                started = time.monotonic()
                registered = await http.post("/register", json={"redirect_uris": [CLAUDE_CALLBACK]})
                elapsed = time.monotonic() - started
            holder.execute("ROLLBACK")
        assert registered.status_code == 503, registered.text
        assert registered.json()["error"] == "temporarily_unavailable"
        assert elapsed < 3 * 3
        async with httpx2.AsyncClient(base_url=portico.base_url) as http:
            again = await http.post("/register", json={"redirect_uris": [CLAUDE_CALLBACK]})
        assert again.status_code == 201


async def _wait_for_stuck_connections(proxy: TcpProxy) -> None:
    """Until the database threads hold connections the blackhole never answers (bounded)."""
    with anyio.fail_after(NO_DATABASE_BOUND):
        while proxy.open_connections < 10:  # noqa: ASYNC110 - the proxy's threads set no event to wait on
            await anyio.sleep(0.05)
