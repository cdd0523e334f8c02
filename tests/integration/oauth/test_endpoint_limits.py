"""Rate limits on the authorization server's endpoints (issue #21): 429 with ``Retry-After`` and an
RFC 6749-style body on ``/register`` and ``/token``, a page on ``/authorize`` and sign-in; keyed on the
client address, which ``listen.trusted_proxies`` makes the forwarded one; the endpoint never runs."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from app.main import create_app
from app.runtime import Runtime
from tests.integration.oauth.conftest import RuntimeFactory
from tests.support.clock import FakeClock

pytestmark = pytest.mark.anyio


def rule(endpoint: str, rate: str = "2/minute", name: str = "tight") -> dict[str, Any]:
    return {"name": name, "key": "client_address", "endpoints": [endpoint], "rate": rate}


def client(runtime: Runtime, address: str = "203.0.113.7") -> httpx2.AsyncClient:
    transport = httpx2.ASGITransport(app=create_app(runtime=runtime), client=(address, 1234))
    return httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080")


async def test_the_token_endpoint_answers_429_json_without_running(make_runtime: RuntimeFactory) -> None:
    runtime = make_runtime(limits={"rules": [rule("/token")]})
    async with client(runtime) as http:
        answers = [await http.post("/token", data={"grant_type": "nonsense"}) for _ in range(3)]
    assert [a.status_code for a in answers] == [400, 400, 429]  # the endpoint ran twice, not the third time
    refused = answers[2]
    assert refused.json() == {
        "error": "too_many_requests",
        "error_description": "rate limit 'tight' reached; retry after 30 seconds",
    }
    assert refused.headers["retry-after"] == "30" and refused.headers["cache-control"] == "no-store"
    assert refused.headers["access-control-allow-origin"] == "*"  # a browser-based client can read why


@pytest.mark.parametrize("path", ["/authorize?client_id=x", "/login?return_to=/"])
async def test_browser_routes_show_a_friendly_page(make_runtime: RuntimeFactory, path: str) -> None:
    endpoint = "/authorize" if path.startswith("/authorize") else "sign-in"
    runtime = make_runtime(limits={"rules": [rule(endpoint, "1/hour")]})
    async with client(runtime) as http:
        first = await http.get(path)
        refused = await http.get(path)
    assert first.status_code != 429
    assert refused.status_code == 429 and refused.headers["retry-after"] == "3600"
    assert refused.headers["content-type"].startswith("text/html")
    assert "Too many requests" in refused.text and "3600 seconds" in refused.text
    assert "frame-ancestors 'none'" in refused.headers["content-security-policy"]  # the usual page headers


async def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket(make_runtime: RuntimeFactory) -> None:
    runtime = make_runtime(limits={"rules": [rule("/token", "1/hour")]}, listen={"trusted_proxies": ["10.0.0.1"]})
    async with client(runtime, address="10.0.0.1") as proxy:

        async def from_client(forwarded: str) -> int:
            answer = await proxy.post("/token", data={}, headers={"x-forwarded-for": forwarded})
            return answer.status_code

        first = [await from_client("198.51.100.1") for _ in range(2)]
        forged = await from_client("192.0.2.99, 198.51.100.1")  # a client-written entry left of the proxy's
        other = await from_client("198.51.100.2")
    assert first == [400, 429] and forged == 429 and other == 400


async def test_an_untrusted_peer_is_keyed_on_itself_whatever_it_forwards(make_runtime: RuntimeFactory) -> None:
    runtime = make_runtime(limits={"rules": [rule("/token", "1/hour")]})
    async with client(runtime, address="198.51.100.9") as http:
        statuses = [
            (await http.post("/token", data={}, headers={"x-forwarded-for": f"192.0.2.{i}"})).status_code
            for i in range(2)
        ]
    assert statuses == [400, 429]


async def test_a_configured_register_rule_replaces_the_default(make_runtime: RuntimeFactory, clock: FakeClock) -> None:
    runtime = make_runtime(oauth={"registrations_per_minute": 100}, limits={"rules": [rule("/register", "1/hour")]})
    async with client(runtime) as http:
        statuses = [(await http.post("/register", json={})).status_code for _ in range(2)]
    assert statuses == [400, 429]


async def test_every_endpoint_is_limited_out_of_the_box(make_runtime: RuntimeFactory) -> None:
    """The defaults (docs/limits.md): /token keeps a burst of 300 per address."""
    runtime = make_runtime()
    async with client(runtime) as http:
        statuses = [(await http.post("/token", data={})).status_code for _ in range(301)]
        preflight = await http.options(
            "/token", headers={"origin": "https://a.example", "access-control-request-method": "POST"}
        )
    assert statuses == [400] * 300 + [429]
    assert preflight.status_code != 429  # preflights are never limited
