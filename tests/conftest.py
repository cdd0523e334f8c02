"""Shared fixtures: every storage test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``PORTICO_TEST_DATABASE_URL``; each test gets its own database, dropped
afterwards. Without it the PostgreSQL leg is skipped, unless ``PORTICO_REQUIRE_ALL=1``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI

from app.config import PorticoConfig
from app.crypto import generate_secret
from app.main import create_app
from app.runtime import Runtime, build_runtime
from tests.support.clock import FakeClock
from tests.support.databases import isolated_postgres_database, postgres_template, sqlite_copy, sqlite_template
from tests.support.redis_server import RedisServer, redis_server

ConfigFactory = Callable[..., PorticoConfig]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def shared_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One test-owned redis-server for the session (tests use their own key prefix; never kill it)."""
    with redis_server(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def _postgres_template() -> Iterator[str]:
    with postgres_template() as name:
        yield name


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database at the newest migration: a SQLite file, or a PostgreSQL database for this test."""
    if request.param == "sqlite":
        yield sqlite_copy(request.getfixturevalue("_sqlite_template"), tmp_path)
        return
    with isolated_postgres_database(request.getfixturevalue("_postgres_template")) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database (no tables), for tests of the migrations themselves."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with isolated_postgres_database() as url:
        yield url


@pytest.fixture
def secret_key() -> str:
    return generate_secret()


@pytest.fixture
def make_config(database_url: str, secret_key: str, tmp_path: Path) -> ConfigFactory:
    """Build a valid configuration on the test database; keyword arguments override top-level keys."""

    def build(**overrides: Any) -> PorticoConfig:
        data: dict[str, Any] = {
            "public_url": "http://127.0.0.1:8080",
            "database_url": database_url,
            "secrets": {"secret_key": secret_key, "generated_key_file": str(tmp_path / "generated.key")},
        }
        data.update(overrides)
        return PorticoConfig.model_validate(data)

    return build


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def runtime(make_config: ConfigFactory, clock: FakeClock) -> Iterator[Runtime]:
    built = build_runtime(make_config(), clock=clock, env={})
    yield built
    built.close()


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime=runtime)


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx2.AsyncClient]:
    """An HTTP client talking to the app in-process (no network)."""
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as client:
        yield client
