"""Isolated test databases, created and dropped per test.

A migrated template is built once per test session (one SQLite file, one PostgreSQL database) and
copied for each test, so most tests skip running the migrations; tests of the migrations
themselves ask for an empty database.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy.engine import URL, make_url

from app import migrate
from app.db import create_db_engine
from tests.support.requirements import missing

ENV = "PORTICO_TEST_DATABASE_URL"


def _base_url() -> URL:
    base = os.environ.get(ENV)
    if not base:
        missing(f"PostgreSQL leg: {ENV} is not set")
    return make_url(base)


def _admin(url: URL, sql: str) -> None:
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as connection:
            connection.execute(sql.encode())  # names are generated hex, never input
    except psycopg.OperationalError as error:
        missing(f"PostgreSQL at {url.host}:{url.port} is unreachable ({type(error).__name__})")


@contextmanager
def postgres_template() -> Iterator[str]:
    """A migrated PostgreSQL database to copy from; dropped when the context ends (session scope)."""
    url = _base_url()
    name = f"portico_template_{secrets.token_hex(6)}"
    _admin(url, f'CREATE DATABASE "{name}"')
    try:
        engine = create_db_engine(url.set(database=name).render_as_string(hide_password=False))
        migrate.upgrade(engine)
        engine.dispose()
        yield name
    finally:
        _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def isolated_postgres_database(template: str | None = None) -> Iterator[str]:
    """Yield the URL of a new PostgreSQL database (a copy of ``template``, or empty); drop it afterwards."""
    url = _base_url()
    name = f"portico_test_{secrets.token_hex(6)}"
    _admin(url, f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sqlite_template(directory: Path) -> Path:
    """A migrated SQLite file in ``directory`` to copy from."""
    path = directory / "template.db"
    engine = create_db_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


def sqlite_copy(template: Path, directory: Path) -> str:
    """The URL of a fresh copy of ``template`` in ``directory``."""
    target = directory / "portico.db"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"
