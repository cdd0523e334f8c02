"""The audit pipeline on a real database (SQLite and PostgreSQL): overflow counted and warned once,
flush on shutdown, retention, the JSON-lines sink, a database outage then recovery without loss."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.audit.rows import auth_row
from app.audit.sinks import insert_rows
from app.audit.trail import AuditTrail, dropped_total
from app.config import PorticoConfig
from app.config.audit import AuditConfig
from app.crypto import generate_secret
from app.db import transaction
from app.observe.records import AuthEvent
from app.runtime import Runtime, build_runtime
from tests.conftest import ConfigFactory
from tests.integration.audit.rows import audit_rows
from tests.integration.proxy.gateway.harness import fixture_stdio_server, serve_portico
from tests.support.clock import FakeClock
from tests.support.databases import isolated_postgres_database
from tests.support.tcp_proxy import TcpProxy, proxied_database

pytestmark = pytest.mark.anyio


def event(n: int, kind: str = "sign_in", at: float | None = None) -> AuthEvent:
    return AuthEvent(at=at or time.time(), kind=kind, subject=f"user-{n}", details={"provider": "dev"})


def trail_on(runtime: Runtime, **config: object) -> AuditTrail:
    return AuditTrail(AuditConfig.model_validate(config), runtime.db, runtime.clock)


async def test_a_full_queue_drops_counts_and_warns_once_per_interval(
    runtime: Runtime, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    trail = trail_on(runtime, queue_size=3)
    before = dropped_total()
    for n in range(5):
        trail.auth_event(event(n))
    assert (trail.queued, trail.dropped, dropped_total() - before) == (3, 2, 2)
    with caplog.at_level(logging.WARNING, logger="portico.audit"):
        trail.warn_dropped()
        trail.warn_dropped()  # nothing new dropped: no second warning
    (warning,) = [r for r in caplog.records if r.name == "portico.audit"]
    assert "dropped 2 record(s)" in warning.getMessage()
    assert await trail.drain()
    assert [row["subject"] for row in audit_rows(database_url)] == ["user-0", "user-1", "user-2"]


async def test_batches_are_written_in_order_and_the_queue_empties(runtime: Runtime, database_url: str) -> None:
    trail = trail_on(runtime, batch_size=2)
    for n in range(5):
        trail.auth_event(event(n, at=1_800_000_000 + n))
    assert await trail.drain() and trail.queued == 0
    rows = audit_rows(database_url)
    assert [row["subject"] for row in rows] == [f"user-{n}" for n in range(5)]
    assert rows[0]["details"] == {"provider": "dev"} and rows[0]["outcome"] == "ok"


async def test_the_queue_is_flushed_on_shutdown(tmp_path: Path, database_url: str) -> None:
    slow = {"flush_interval": 3600}  # never drained while serving: only the shutdown flush writes
    async with serve_portico(tmp_path, {"files": fixture_stdio_server()}, database_url=database_url, audit=slow) as p:
        async with p.client("files") as client:
            await client.call_tool("echo", {"text": "x"})
        assert audit_rows(database_url) == []
    assert [row["target"] for row in audit_rows(database_url, tool="echo")] == ["echo"]


def test_retention_deletes_only_rows_older_than_retention_days(
    make_config: ConfigFactory, clock: FakeClock, database_url: str
) -> None:
    runtime = build_runtime(make_config(), clock=clock, env={})
    try:
        now = clock.now().timestamp()
        with transaction(runtime.db) as db:
            insert_rows(db, [auth_row(event(1, at=now - 31 * 86400)), auth_row(event(2, at=now - 29 * 86400))])
        assert trail_on(runtime, retention_days=30).apply_retention() == 1
    finally:
        runtime.close()
    assert [row["subject"] for row in audit_rows(database_url)] == ["user-2"]


async def test_the_json_lines_sink_writes_one_object_per_record(runtime: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    trail = AuditTrail(AuditConfig(sink="jsonl", jsonl_path=str(path)), None, runtime.clock)
    trail.auth_event(AuthEvent(at=1_800_000_000.5, kind="token_issued", client_id="c", details={"grant_type": "x"}))
    trail.auth_event(event(2, kind="sign_in_refused"))
    assert await trail.drain()
    first, second = [json.loads(line) for line in path.read_text().splitlines()]
    assert first == {
        "time": "2027-01-15T08:00:00.500000Z",
        "kind": "token_issued",
        "client_id": "c",
        "outcome": "ok",
        "details": {"grant_type": "x"},
    }
    assert second["kind"] == "sign_in_refused" and second["subject"] == "user-2"


async def test_the_json_lines_sink_writes_to_standard_output(
    runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    trail = AuditTrail(AuditConfig(sink="both"), runtime.db, runtime.clock)
    trail.auth_event(event(1))
    assert await trail.drain()
    assert json.loads(capsys.readouterr().out)["subject"] == "user-1"


@pytest.fixture
def proxied_postgres() -> Iterator[tuple[TcpProxy, str, str]]:
    with isolated_postgres_database() as url, proxied_database(url) as (proxy, proxied):
        yield proxy, url, proxied


@pytest.mark.postgres
async def test_a_database_outage_keeps_records_queued_until_it_recovers(
    proxied_postgres: tuple[TcpProxy, str, str], tmp_path: Path
) -> None:
    proxy, url, proxied = proxied_postgres
    config = PorticoConfig.model_validate(
        {
            "public_url": "http://127.0.0.1:8080",
            "database_url": proxied,
            "database": {"connect_timeout_seconds": 1, "call_timeout_seconds": 2, "pool_timeout_seconds": 1},
            "secrets": {"secret_key": generate_secret(), "generated_key_file": str(tmp_path / "generated.key")},
        }
    )
    runtime = build_runtime(config, clock=FakeClock(), env={})
    try:
        trail = trail_on(runtime, queue_size=4, batch_size=2)
        trail.auth_event(event(0))
        proxy.refuse()
        trail.auth_event(event(1))
        assert not await trail.drain()
        for n in range(2, 6):
            trail.auth_event(event(n))  # 4 queued, the 5th and 6th dropped and counted
        assert (trail.queued, trail.dropped) == (4, 2)
        proxy.restore()
        assert await trail.drain()
    finally:
        runtime.close()
    assert [row["subject"] for row in audit_rows(url)] == ["user-0", "user-1", "user-2", "user-3"]
