"""A Portico with two servers (``github`` titled, ``jira`` untitled) and test-only protected routes.

``/{server}/mcp`` and ``/{server}/sse`` echo the verified claims, so tests see what a real MCP
route would receive from :mod:`proxy.auth.resource_server`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI

from app.main import create_app
from app.runtime import Runtime, build_runtime
from oauth.tokens.access_tokens import AccessTokenClaims, issue_access_token
from proxy.auth.resource_server import McpAccessToken, SseAccessToken
from tests.conftest import ConfigFactory
from tests.support.clock import FakeClock

PUBLIC_URL = "http://127.0.0.1:8080"
SERVERS: dict[str, Any] = {
    "github": {"transport": "streamable-http", "url": "https://upstream.example.com/mcp", "title": "GitHub"},
    "jira": {"transport": "stdio", "command": "jira-mcp"},
}
Mint = Callable[..., str]


def _echo(claims: AccessTokenClaims) -> dict[str, object]:
    return {
        "sub": claims.subject,
        "aud": claims.audience,
        "client_id": claims.client_id,
        "scope": sorted(claims.scopes),
    }


async def mcp_route(claims: McpAccessToken) -> dict[str, object]:
    return _echo(claims)


async def sse_route(claims: SseAccessToken) -> dict[str, object]:
    return _echo(claims)


@pytest.fixture
def runtime(make_config: ConfigFactory, clock: FakeClock) -> Iterator[Runtime]:
    built = build_runtime(make_config(public_url=PUBLIC_URL, servers=SERVERS), clock=clock, env={})
    yield built
    built.close()


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    built = create_app(runtime=runtime)
    built.add_api_route("/{server}/mcp", mcp_route, methods=["POST", "GET"])
    built.add_api_route("/{server}/sse", sse_route, methods=["GET"])
    # Ahead of the gateway's own routes, so these probes see exactly what the bearer check returns.
    probes = built.router.routes[-2:]
    del built.router.routes[-2:]
    built.router.routes[0:0] = probes
    return built


@pytest.fixture
def mint(runtime: Runtime, clock: FakeClock) -> Mint:
    """Mint an access token for a route path; keyword arguments override ``issue_access_token``'s."""

    def build(path: str = "/github/mcp", **overrides: Any) -> str:
        args: dict[str, Any] = {
            "issuer": PUBLIC_URL,
            "subject": "user-42",
            "audience": f"{PUBLIC_URL}{path}",
            "client_id": "client-1",
            "scopes": {"mcp"},
            "now": clock.now(),
            "lifetime": runtime.config.oauth.access_token_lifetime,
        }
        args.update(overrides)
        token, _claims = issue_access_token(runtime.signing_keys, **args)
        return token

    return build
