"""An open event stream ends when its access token is revoked or expires (issue #14, finding 11; ADR 0012).

Real processes on both database legs: ``portico serve``, tokens from the dev sign-in form,
consent and ``/token``, and ``portico users disable`` run as its own process. Revocations reach
the running Portico through revocation events (ADR 0009), not the 60 s periodic sync. Before the
fix, a stream stayed open for as long as the client kept it.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import httpx2
import pytest

from tests.integration.proxy.lifetime.streams import Stream, bearer, open_session
from tests.support.http_sign_in import DEV_PROVIDER, sign_in_and_get_tokens
from tests.support.portico import run_portico
from tests.support.processes import Process

pytestmark = pytest.mark.anyio
PORTICO = Path(sys.executable).parent / "portico"
FIXTURE_SERVER = Path(__file__).resolve().parents[3] / "fixtures" / "mcp_fixture_server.py"
# Events arrive within ~1 s (ADR 0009) and streams are checked every second; the fallback sync
# would take 60 s. 15 s is far below the latter and loose enough for a loaded machine.
PROPAGATION_BOUND_SECONDS = 15.0
ACCESS_TOKEN_LIFETIME = 6


def serve(tmp_path: Path, database_url: str, access_token_lifetime: int) -> Any:
    config: dict[str, Any] = {
        "login": {"providers": [DEV_PROVIDER], "allowed_domains": ["example.com"]},
        "oauth": {"access_token_lifetime": access_token_lifetime},
        "servers": {
            "fixture": {"transport": "stdio", "command": sys.executable, "args": [str(FIXTURE_SERVER), "stdio"]}
        },
    }
    return run_portico(tmp_path, config, database_url=database_url)


@pytest.fixture
def portico_process(tmp_path: Path, empty_database_url: str) -> Iterator[Process]:
    with serve(tmp_path, empty_database_url, 3600) as process:
        yield process


@pytest.fixture
def short_lived_tokens(tmp_path: Path, empty_database_url: str) -> Iterator[Process]:
    """Access tokens live :data:`ACCESS_TOKEN_LIFETIME` seconds (``oauth.access_token_lifetime``)."""
    with serve(tmp_path, empty_database_url, ACCESS_TOKEN_LIFETIME) as process:
        yield process


async def test_users_disable_ends_the_users_open_streams_within_seconds(
    portico_process: Process, tmp_path: Path
) -> None:
    base = portico_process.base_url
    async with httpx2.AsyncClient(base_url=base, timeout=60) as http, anyio.create_task_group() as group:
        _client, tokens = await sign_in_and_get_tokens(http, "alice@example.com", f"{base}/fixture/mcp")
        _client, sse_tokens = await sign_in_and_get_tokens(http, "alice@example.com", f"{base}/fixture/sse")
        async with httpx2.AsyncClient(base_url=base, timeout=60) as bobs_browser:  # its own login session cookie
            _client, other = await sign_in_and_get_tokens(bobs_browser, "bob@example.com", f"{base}/fixture/mcp")
        alice, legacy, bob = Stream(), Stream(), Stream()
        group.start_soon(
            alice.read, http, "/fixture/mcp", await open_session(http, "/fixture/mcp", tokens["access_token"])
        )
        group.start_soon(
            legacy.read, http, "/fixture/sse", bearer(sse_tokens["access_token"], accept="text/event-stream")
        )
        group.start_soon(
            bob.read, http, "/fixture/mcp", await open_session(http, "/fixture/mcp", other["access_token"])
        )
        for stream in (alice, legacy, bob):
            await stream.opened.wait()
            assert stream.status == 200
        result = await anyio.to_thread.run_sync(
            lambda: subprocess.run(
                [str(PORTICO), "users", "disable", "alice@example.com", "--config", str(tmp_path / "portico.yaml")],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        )
        assert result.returncode == 0, result.stderr
        disabled_at = time.monotonic()
        with anyio.fail_after(PROPAGATION_BOUND_SECONDS):
            await alice.done.wait()
            await legacy.done.wait()
        assert alice.error is None and legacy.error is None  # a clean end of the body
        assert not bob.done.is_set(), portico_process.stderr_text()  # another user's stream stays open
        print(f"streams ended {time.monotonic() - disabled_at:.2f} s after the command returned")
        group.cancel_scope.cancel()
    assert "closed a stream: access token revoked" in portico_process.stderr_text()


async def test_a_stream_ends_when_its_access_token_expires_and_a_fresh_token_reopens_it(
    short_lived_tokens: Process,
) -> None:
    portico_process = short_lived_tokens
    base = portico_process.base_url
    async with httpx2.AsyncClient(base_url=base, timeout=60) as http, anyio.create_task_group() as group:
        client_id, tokens = await sign_in_and_get_tokens(http, "carol@example.com", f"{base}/fixture/mcp")
        issued_at = time.monotonic()
        headers = await open_session(http, "/fixture/mcp", tokens["access_token"])
        stream = Stream()
        group.start_soon(stream.read, http, "/fixture/mcp", headers)
        await stream.opened.wait()
        assert stream.status == 200
        with anyio.fail_after(ACCESS_TOKEN_LIFETIME * 3):
            await stream.done.wait()
        assert stream.error is None
        assert stream.ended_at is not None and stream.ended_at - issued_at >= ACCESS_TOKEN_LIFETIME - 1
        refreshed = await http.post(
            "/token",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": client_id},
        )
        assert refreshed.status_code == 200, refreshed.text
        fresh = {**headers, "authorization": f"Bearer {refreshed.json()['access_token']}"}
        again = Stream()
        group.start_soon(again.read, http, "/fixture/mcp", fresh)
        await again.opened.wait()
        assert again.status == 200  # the client reconnects with a fresh token, same session
        group.cancel_scope.cancel()
    assert "closed a stream: access token expired" in portico_process.stderr_text()
