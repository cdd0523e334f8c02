"""Isolated PostgreSQL databases for tests (created and dropped per use)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy.engine import URL, make_url

from tests.support.requirements import missing

ENV = "PORTICO_TEST_DATABASE_URL"


@contextmanager
def isolated_postgres_database() -> Iterator[str]:
    """Yield the URL of a new, empty PostgreSQL database; drop it afterwards."""
    base = os.environ.get(ENV)
    if not base:
        missing(f"PostgreSQL leg: {ENV} is not set")
    url = make_url(base)
    name = f"portico_test_{secrets.token_hex(6)}"
    admin = _admin_dsn(url)
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        missing(f"PostgreSQL at {url.host}:{url.port} is unreachable ({type(error).__name__})")
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _admin_dsn(url: URL) -> str:
    rendered: str = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return rendered
