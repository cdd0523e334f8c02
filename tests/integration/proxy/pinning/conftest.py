"""A pinning gate on the test database (SQLite and PostgreSQL), with a fake clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.db import create_db_engine, session_factory
from proxy.pinning import PinningGate, PinningPolicy
from tests.support.clock import FakeClock

GateFactory = Callable[..., PinningGate]


@pytest.fixture
def db(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = create_db_engine(database_url)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def make_gate(db: sessionmaker[Session], clock: FakeClock) -> GateFactory:
    """``make_gate(mode="enforce", hold_new=False, server="s")``: a gate for one pinned server."""

    def build(mode: Any = "warn", *, hold_new: bool = False, server: str = "s") -> PinningGate:
        return PinningGate({server: PinningPolicy(mode=mode, hold_new=hold_new)}, db, clock=clock)

    return build


def tool(name: str, description: str = "v1", **extra: Any) -> dict[str, Any]:
    """One ``tools/list`` entry."""
    return {"name": name, "description": description, "inputSchema": {"type": "object"}, **extra}
