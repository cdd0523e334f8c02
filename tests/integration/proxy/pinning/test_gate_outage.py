"""The gate during a database outage (PostgreSQL behind a TCP proxy that refuses): no exception on
``tools/list``; ``enforce`` hides what it could not record, ``warn`` serves it; the next listing
after recovery records it. Our design (docs/pinning.md §Cost, ADR 0006 for the bounds)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.config.database import DatabaseConfig
from app.db import create_db_engine, session_factory, transaction
from proxy.pinning import PinningGate, PinningPolicy
from proxy.pinning.store import tool_states
from tests.integration.proxy.pinning.conftest import tool
from tests.support.databases import isolated_postgres_database
from tests.support.tcp_proxy import TcpProxy, proxied_database

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]
BOUNDS = DatabaseConfig(connect_timeout_seconds=1, call_timeout_seconds=2, pool_timeout_seconds=1)
LISTING = [tool("a"), tool("b")]


@pytest.fixture
def proxied(_postgres_template: str) -> Iterator[tuple[TcpProxy, sessionmaker[Session]]]:
    with isolated_postgres_database(_postgres_template) as url, proxied_database(url) as (proxy, through):
        engine = create_db_engine(through, BOUNDS)
        yield proxy, session_factory(engine)
        engine.dispose()


@pytest.mark.parametrize(("mode", "hidden"), [("enforce", {"a", "b"}), ("warn", set())])
async def test_an_outage_fails_closed_under_enforce_and_open_under_warn_then_recovers(
    proxied: tuple[TcpProxy, sessionmaker[Session]], caplog: pytest.LogCaptureFixture, mode: str, hidden: set[str]
) -> None:
    proxy, db = proxied
    gate = PinningGate({"s": PinningPolicy(mode=mode)}, db)  # type: ignore[arg-type]
    proxy.refuse()
    with caplog.at_level(logging.WARNING, logger="portico.pinning"):
        assert await gate.observe("s", LISTING) == hidden
        assert await gate.observe("s", LISTING) == hidden  # retried, not logged again
    lines = [record.getMessage() for record in caplog.records if record.name == "portico.pinning"]
    assert lines == ["pinning: tool definitions of server 's' not recorded (no database); retrying"]
    proxy.restore()
    assert await gate.observe("s", LISTING) == frozenset()  # not cached: recorded now
    with transaction(db) as session:
        assert {name: state.status for name, state in tool_states(session, ["s"])["s"].items()} == {
            "a": "approved",
            "b": "approved",
        }


async def test_startup_during_an_outage_does_not_raise_and_the_next_sync_loads(
    proxied: tuple[TcpProxy, sessionmaker[Session]],
) -> None:
    proxy, db = proxied
    await PinningGate({"s": PinningPolicy(mode="enforce")}, db).observe("s", LISTING)
    with transaction(db) as session:
        assert set(tool_states(session, ["s"])["s"]) == {"a", "b"}
    gate = PinningGate({"s": PinningPolicy(mode="enforce")}, db)
    proxy.refuse()
    await gate.start()
    proxy.restore()
    assert await gate.sync() is True
    assert await gate.observe("s", [tool("a", "v2"), tool("b")]) == {"a"}
