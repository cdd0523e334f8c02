"""The MCP short path (``proxy.inbound.fast_path``): which paths take it, and that it keeps the stack's guarantees.

In-process, against the real app (no probe routes): a configured server's ``/<name>/mcp`` and
``/<name>/sse[/messages]`` skip the router, and still answer with the security headers, the
413 body limit and the bearer challenge exactly as the ordinary stack does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx2
import pytest
from fastapi import FastAPI

from app.main import create_app
from app.runtime import Runtime, build_runtime
from oauth.tokens.access_tokens import issue_access_token
from proxy.inbound.fast_path import McpFastPath
from tests.conftest import ConfigFactory
from tests.integration.proxy.conftest import PUBLIC_URL, SERVERS
from tests.support.clock import FakeClock

pytestmark = pytest.mark.anyio

MODERN = {
    "accept": "application/json, text/event-stream",
    "content-type": "application/json",
    "mcp-protocol-version": "2026-07-28",
    "mcp-method": "tools/list",
}


@pytest.fixture
def runtime(make_config: ConfigFactory, clock: FakeClock) -> Iterator[Runtime]:
    config = make_config(public_url=PUBLIC_URL, servers=SERVERS, limits={"max_body_bytes": 4096})
    built = build_runtime(config, clock=clock, env={})
    yield built
    built.close()


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime=runtime)


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx2.AsyncClient]:
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=PUBLIC_URL) as client:
        yield client


def token(runtime: Runtime, path: str = "/github/mcp") -> str:
    minted, _claims = issue_access_token(
        runtime.signing_keys,
        issuer=PUBLIC_URL,
        subject="user-42",
        audience=f"{PUBLIC_URL}{path}",
        client_id="client-1",
        scopes={"mcp"},
        now=runtime.clock.now(),
        lifetime=3600,
    )
    return minted


def fast_path(app: FastAPI) -> McpFastPath:
    layer: object = app.middleware_stack
    while not isinstance(layer, McpFastPath):
        layer = getattr(layer, "app")  # noqa: B009 - each layer's next app
    return layer


async def test_configured_mcp_paths_take_the_short_path_and_nothing_else(
    http: httpx2.AsyncClient, app: FastAPI
) -> None:
    """Our choice: only exact paths of configured servers; unknown names and sub-paths keep the router."""
    await http.get("/healthz")
    assert fast_path(app).paths == {
        f"/{server}/{kind}" for server in ("github", "jira") for kind in ("mcp", "sse", "sse/messages")
    }
    below = await http.post("/github/mcp/", json={})
    assert below.status_code == 404
    assert below.headers["x-content-type-options"] == "nosniff"


async def test_a_refused_token_on_the_short_path_gets_the_challenge_and_security_headers(
    http: httpx2.AsyncClient,
) -> None:
    """Spec-mandated: RFC 6750 §3 / RFC 9728 §5.1; our choice: baseline security headers on every answer."""
    response = await http.post("/github/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers=MODERN)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer resource_metadata=")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert response.json()["error"] == "invalid_token"


async def test_a_declared_oversized_body_is_413_before_the_token_is_read(http: httpx2.AsyncClient) -> None:
    """Our choice (limits.max_body_bytes): refused on Content-Length alone."""
    response = await http.post("/github/mcp", content=b"x" * 5000, headers=MODERN)
    assert response.status_code == 413
    assert response.json()["error"] == "request_too_large"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_a_streamed_oversized_body_is_413(http: httpx2.AsyncClient, runtime: Runtime) -> None:
    """Our choice: a body without Content-Length is cut off once it passes the limit."""

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b"x" * 1024

    headers = {**MODERN, "authorization": f"Bearer {token(runtime)}"}
    response = await http.post("/github/mcp", content=chunks(), headers=headers)
    assert response.status_code == 413
    assert response.json() == {"error": "request_too_large", "error_description": "request body exceeds 4096 bytes"}
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_a_valid_token_passes_the_short_path_to_the_endpoint(http: httpx2.AsyncClient, runtime: Runtime) -> None:
    """The endpoint's own checks run after authentication (here: 2026-07-28 refuses GET with 405)."""
    response = await http.get("/github/mcp", headers={**MODERN, "authorization": f"Bearer {token(runtime)}"})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.headers["referrer-policy"] == "no-referrer"
