"""Revocations reach the bearer check of a running ``portico serve`` (issue #15, findings 1 and 8).

Real processes on both database legs: Portico serving a stdio MCP server (``mcp-server-time``),
tokens obtained over HTTP through the dev sign-in form, consent and ``/token``, and ``portico
users disable`` run as its own process, as an operator runs it.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.support.http_sign_in import DEV_PROVIDER, sign_in_and_get_tokens
from tests.support.portico import run_portico
from tests.support.processes import Process

pytestmark = pytest.mark.anyio
PORTICO = Path(sys.executable).parent / "portico"
# Revocation events are polled every second (SQLite) or notified (PostgreSQL); the fallback sync
# runs every 60 s. 15 s is far below the latter and loose enough for a loaded machine.
PROPAGATION_BOUND_SECONDS = 15.0
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}


@dataclass
class Served:
    process: Process
    http: httpx2.AsyncClient
    directory: Path

    @property
    def resource(self) -> str:
        return f"{self.process.base_url}/time/mcp"

    async def mcp_status(self, access_token: str) -> int:
        headers = {
            "authorization": f"Bearer {access_token}",
            "accept": "application/json, text/event-stream",
            "content-type": "application/json",
        }
        response = await self.http.post("/time/mcp", json=INITIALIZE, headers=headers)
        return response.status_code


@pytest.fixture
def portico_process(tmp_path: Path, empty_database_url: str) -> Iterator[Process]:
    config: dict[str, Any] = {
        "login": {"providers": [DEV_PROVIDER], "allowed_domains": ["example.com"]},
        "servers": {"time": {"transport": "stdio", "command": "mcp-server-time"}},
    }
    with run_portico(tmp_path, config, database_url=empty_database_url) as process:
        yield process


@pytest.fixture
async def served(portico_process: Process, tmp_path: Path) -> AsyncIterator[Served]:
    async with httpx2.AsyncClient(base_url=portico_process.base_url, timeout=30) as http:
        yield Served(portico_process, http, tmp_path)


async def refused_within(served: Served, access_token: str, seconds: float) -> float:
    """Seconds until ``/time/mcp`` answers 401 for ``access_token``; fails past ``seconds``."""
    started = time.monotonic()
    while (status := await served.mcp_status(access_token)) != 401:
        assert status == 200, status
        assert time.monotonic() - started < seconds, f"still accepted after {seconds} s"
        await anyio.sleep(0.25)
    return time.monotonic() - started


async def test_users_disable_refuses_the_users_access_token_within_seconds(served: Served) -> None:
    """Finding 8: before, a running instance kept accepting the token until its 60 s sync."""
    _client, tokens = await sign_in_and_get_tokens(served.http, "alice@example.com", served.resource)
    assert await served.mcp_status(tokens["access_token"]) == 200
    result = await anyio.to_thread.run_sync(
        lambda: subprocess.run(
            [str(PORTICO), "users", "disable", "alice@example.com", "--config", str(served.directory / "portico.yaml")],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    )
    assert result.returncode == 0, result.stderr
    output = result.stdout
    assert "login sessions ended: 1" in output
    assert "refresh tokens revoked: 1" in output
    assert "access tokens revoked: 1" in output
    assert "running instances" in output
    elapsed = await refused_within(served, tokens["access_token"], PROPAGATION_BOUND_SECONDS)
    print(f"refused {elapsed:.2f} s after the command returned:\n{output}")


async def test_a_thief_graced_pair_dies_at_the_gateway_once_the_client_moves_on(served: Served) -> None:
    """Finding 1: the thief's access token (AT3) is refused once the rightful client uses RT2."""
    client_id, first = await sign_in_and_get_tokens(served.http, "bob@example.com", served.resource)

    async def refresh(refresh_token: str) -> httpx2.Response:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}
        return await served.http.post("/token", data=form)

    rightful = await refresh(first["refresh_token"])  # RT1 -> RT2
    assert rightful.status_code == 200, rightful.text
    theft = await refresh(first["refresh_token"])  # the spent RT1, inside the grace window -> RT3 + AT3
    assert theft.status_code == 200, theft.text
    thief = theft.json()
    assert await served.mcp_status(thief["access_token"]) == 200
    moved_on = await refresh(rightful.json()["refresh_token"])  # the client uses RT2
    assert moved_on.status_code == 200, moved_on.text
    assert await served.mcp_status(thief["access_token"]) == 401  # the same process revoked it: at once
    assert await served.mcp_status(moved_on.json()["access_token"]) == 200
    assert (await refresh(thief["refresh_token"])).status_code == 400


async def test_a_spent_refresh_token_buys_one_extra_pair_then_revokes_the_family(served: Served) -> None:
    """Finding 1: before, one spent token minted a pair on every presentation inside the window."""
    client_id, first = await sign_in_and_get_tokens(served.http, "carol@example.com", served.resource)

    async def refresh(refresh_token: str) -> httpx2.Response:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}
        return await served.http.post("/token", data=form)

    statuses = [(await refresh(first["refresh_token"])).status_code for _ in range(5)]
    assert statuses == [200, 200, 400, 400, 400]
    assert await served.mcp_status(first["access_token"]) == 401


def _listener_pids(database_url: str) -> set[int]:
    """Backend pids of the revocation listeners connected to this (test-only) database."""
    conninfo = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'"
        ).fetchall()
    return {int(row[0]) for row in rows}


@pytest.fixture
def postgres_leg(empty_database_url: str) -> None:
    if not empty_database_url.startswith("postgresql"):
        pytest.skip("LISTEN/NOTIFY is the PostgreSQL source")


@pytest.mark.usefixtures("postgres_leg")
async def test_the_postgresql_listener_reconnects_after_losing_its_connection(
    served: Served, empty_database_url: str
) -> None:
    """Finding 8: a dropped LISTEN connection is re-established, so revocations still arrive within seconds."""
    _client, tokens = await sign_in_and_get_tokens(served.http, "dave@example.com", served.resource)
    [first] = _listener_pids(empty_database_url)
    conninfo = make_url(empty_database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [first])
    started = time.monotonic()
    while not (_listener_pids(empty_database_url) - {first}):
        assert time.monotonic() - started < PROPAGATION_BOUND_SECONDS, "the listener did not reconnect"
        await anyio.sleep(0.25)
    config = str(served.directory / "portico.yaml")
    result = await anyio.to_thread.run_sync(
        lambda: subprocess.run(
            [str(PORTICO), "users", "disable", "dave@example.com", "--config", config],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    )
    assert result.returncode == 0, result.stderr
    await refused_within(served, tokens["access_token"], PROPAGATION_BOUND_SECONDS)
