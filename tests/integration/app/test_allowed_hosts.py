"""``Host`` validation (``listen.allowed_hosts``; issue #15 finding 9), in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest

from app.main import create_app
from app.runtime import build_runtime
from tests.conftest import ConfigFactory
from tests.support.clock import FakeClock

pytestmark = pytest.mark.anyio
SERVERS = {"notes": {"transport": "stdio", "command": "true"}}


async def status(make_config: ConfigFactory, clock: FakeClock, host: str, path: str, **config: Any) -> int:
    runtime = build_runtime(make_config(servers=SERVERS, **config), clock=clock, env={})
    try:
        transport = httpx2.ASGITransport(app=create_app(runtime=runtime))
        async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as http:
            response = await http.post(path, headers={"host": host}, json={})
            if response.status_code == 400 and "content-type" in response.headers:
                assert response.json()["error"] in ("invalid_request", "invalid_client_metadata")
            return response.status_code
    finally:
        runtime.close()


@pytest.fixture
async def loopback(make_config: ConfigFactory, clock: FakeClock) -> AsyncIterator[Any]:
    async def check(host: str, path: str = "/notes/mcp") -> int:
        return await status(make_config, clock, host, path)

    yield check


@pytest.mark.parametrize("host", ["127.0.0.1:8080", "127.0.0.1", "localhost:8080", "[::1]:8080", "LOCALHOST"])
async def test_a_loopback_public_url_accepts_every_loopback_name(loopback: Any, host: str) -> None:
    """Our choice: the default for a loopback ``public_url`` (local clients use either name)."""
    assert await loopback(host) == 401  # past the host check: the bearer check answers


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8080", "127.0.0.1.evil.example", "", "a b"])
@pytest.mark.parametrize("path", ["/notes/mcp", "/register", "/token", "/.well-known/oauth-authorization-server"])
async def test_other_hosts_are_refused_with_400_on_every_route(loopback: Any, host: str, path: str) -> None:
    """Our choice (DNS rebinding; RFC 9110 §7.2, §15.5.1): a name Portico does not serve is 400."""
    assert await loopback(host, path) == 400


async def test_health_probes_answer_any_host(loopback: Any) -> None:
    """Our choice: container and load-balancer probes call by address; the probes reveal nothing."""
    assert await loopback("10.1.2.3:8080", "/healthz") == 405  # POST: past the host check, the route answers


async def test_a_public_url_allows_only_its_own_host_by_default(make_config: ConfigFactory, clock: FakeClock) -> None:
    """Our choice: the default is ``public_url``'s host; loopback names are not added for a public name."""
    public = {"public_url": "https://gw.example.com"}
    assert await status(make_config, clock, "gw.example.com", "/notes/mcp", **public) == 401
    assert await status(make_config, clock, "GW.example.com:443", "/notes/mcp", **public) == 401
    assert await status(make_config, clock, "127.0.0.1:8080", "/notes/mcp", **public) == 400


async def test_configured_allowed_hosts_replace_the_default(make_config: ConfigFactory, clock: FakeClock) -> None:
    listen = {"listen": {"allowed_hosts": ["mcp.internal", "[2001:db8::1]"]}}
    assert await status(make_config, clock, "mcp.internal:8443", "/notes/mcp", **listen) == 401
    assert await status(make_config, clock, "[2001:db8::1]:8080", "/notes/mcp", **listen) == 401
    assert await status(make_config, clock, "127.0.0.1:8080", "/notes/mcp", **listen) == 400
