"""Storage: the declarative base, the engine factory and the unit-of-work helper.

SQLAlchemy 2 with a synchronous engine (SQLite or PostgreSQL through psycopg 3). Database work
runs off the event loop via :func:`run_db`, on the engine's own bounded executor
(:mod:`app.db_executor`; docs/adr/0002-synchronous-storage.md, docs/adr/0006-bounded-database-work.md);
the proxy hot path does no database I/O at all.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from app.config.database import DatabaseConfig
from app.db_executor import attach_executor, executor_for

T = TypeVar("T")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Every Portico table derives from this; Alembic's ``target_metadata`` is its metadata."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def create_db_engine(database_url: str, database: DatabaseConfig | None = None) -> Engine:
    """An engine for ``sqlite:///…`` (WAL, foreign keys on) or ``postgresql+psycopg://…``, bounded by ``database``.

    With ``database`` (a serving process): connect, statement and lock timeouts on PostgreSQL, the busy
    timeout on SQLite, the pool and the executor as configured (docs/configuration.md §``database``).
    Without (migrations, administrative commands): no statement or lock timeout, so a long migration
    is never cut short; the default pool and executor.

    A SQLite file that does not exist yet is created mode 0600 (its ``-wal``/``-shm`` files inherit
    it): it holds sealed secrets and token hashes. A missing directory stays an error, as before.
    """
    bounds = database or DatabaseConfig()
    if database_url.startswith("sqlite"):
        _create_private_sqlite_file(make_url(database_url).database)
        busy = {"timeout": bounds.sqlite_busy_timeout_seconds}
        engine = create_engine(database_url, connect_args={"check_same_thread": False, **busy})
        event.listen(engine, "connect", _sqlite_pragmas(bounds.sqlite_busy_timeout_seconds))
    else:
        engine = create_engine(
            database_url,
            connect_args=_postgres_connect_args(bounds, statement_limits=database is not None),
            pool_pre_ping=bounds.pool_pre_ping,
            pool_size=bounds.pool_size,
            max_overflow=bounds.max_overflow,
            pool_timeout=bounds.pool_timeout_seconds,
        )
    attach_executor(engine, bounds)
    return engine


def _postgres_connect_args(bounds: DatabaseConfig, *, statement_limits: bool) -> dict[str, Any]:
    """libpq ``connect_timeout`` (whole seconds) and, for serving, server-side statement and lock timeouts."""
    args: dict[str, Any] = {"connect_timeout": bounds.connect_timeout_seconds}
    if statement_limits:
        statement_ms = round(bounds.statement_timeout_seconds * 1000)
        lock_ms = round(bounds.lock_timeout_seconds * 1000)
        args["options"] = f"-c statement_timeout={statement_ms} -c lock_timeout={lock_ms}"
    return args


def _create_private_sqlite_file(database: str | None) -> None:
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if path.exists() or not path.parent.is_dir():
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass  # created meanwhile by another process: its mode stands


def _sqlite_pragmas(busy_timeout: float) -> Callable[[DBAPIConnection, ConnectionPoolEntry], None]:
    def on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={round(busy_timeout * 1000)}")
        cursor.close()

    return on_connect


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception."""
    with factory() as db, db.begin():
        yield db


async def run_db(factory: sessionmaker[Session], work: Callable[[Session], T]) -> T:
    """Run ``work(db)`` inside one transaction on the engine's database executor.

    Raises:
        app.db_outage.DatabaseUnavailableError: the database was refused, silent past a timeout or
            had no free connection (``database.call_timeout_seconds`` bounds the whole call).
    """

    def call() -> T:
        with transaction(factory) as db:
            return work(db)

    return await executor_for(factory.kw["bind"]).run(call)
