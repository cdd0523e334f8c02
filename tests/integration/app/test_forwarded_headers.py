"""The client behind trusted reverse proxies (``listen.trusted_proxies``): a running Portico on a real socket.

Requests come from 127.0.0.1, the reverse proxy's hop: trusted when the configuration lists it,
untrusted otherwise. A probe route shows the address and scheme the app sees; ``/register``
shows the rate limit keyed on them (issue #15 finding 3).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI, Request

from app.main import create_app
from app.runtime import build_runtime
from tests.conftest import ConfigFactory
from tests.support.asgi_server import serve_asgi
from tests.support.clock import FakeClock
from tests.support.header_proxy import serve_header_proxy
from tests.support.oauth import CLAUDE_CALLBACK
from tests.support.portico import run_portico

pytestmark = pytest.mark.anyio
REGISTRATION = {"redirect_uris": [CLAUDE_CALLBACK], "client_name": "Claude", "token_endpoint_auth_method": "none"}

Serve = Callable[..., Any]


@pytest.fixture
def serve(make_config: ConfigFactory, clock: FakeClock) -> Iterator[Serve]:
    """``serve(**listen)`` → a context manager yielding the base URL of a running Portico with that ``listen``."""

    @contextmanager
    def running(**listen: Any) -> Iterator[str]:
        config = make_config(listen=listen, oauth={"registrations_per_minute": 2})
        runtime = build_runtime(config, clock=clock, env={})
        app = create_app(runtime=runtime)
        _add_probe(app)
        try:
            with serve_asgi(app) as base_url:
                yield base_url
        finally:
            runtime.close()

    yield running


def _add_probe(app: FastAPI) -> None:
    async def probe(request: Request) -> dict[str, object]:
        return {"client": request.client.host if request.client else None, "scheme": request.url.scheme}

    app.add_api_route("/_probe", probe)


async def seen(base_url: str, **headers: str) -> dict[str, object]:
    async with httpx2.AsyncClient() as http:
        response = await http.get(f"{base_url}/_probe", headers=headers)
    body: dict[str, object] = response.json()
    return body


async def registrations(base_url: str, *callers: str, body: dict[str, Any] | None = None) -> list[int]:
    """One ``POST /register`` per entry of ``callers`` (an ``X-Forwarded-For`` value), in order; the statuses."""
    async with httpx2.AsyncClient() as http:
        return [
            (
                await http.post(f"{base_url}/register", json=body or REGISTRATION, headers={"x-forwarded-for": caller})
            ).status_code
            for caller in callers
        ]


@pytest.mark.parametrize(
    ("trusted", "forwarded_for", "client"),
    [
        (["127.0.0.1"], "203.0.113.9", "203.0.113.9"),
        (["127.0.0.0/8"], "198.51.100.7, 203.0.113.9", "203.0.113.9"),  # the left entry may be forged
        (["127.0.0.1", "203.0.113.0/24"], "198.51.100.7, 203.0.113.9", "198.51.100.7"),  # two trusted hops
        (["10.0.0.0/8"], "203.0.113.9", "127.0.0.1"),  # the peer is not a trusted proxy
        ([], "203.0.113.9", "127.0.0.1"),  # the default: forwarded headers are never read
    ],
)
async def test_the_client_is_the_rightmost_address_no_trusted_proxy_added(
    serve: Serve, trusted: list[str], forwarded_for: str, client: str
) -> None:
    """Our choice (RFC 7239 §5.2 / X-Forwarded-For practice): only trusted hops are believed."""
    with serve(trusted_proxies=trusted) as base_url:
        assert (await seen(base_url, **{"x-forwarded-for": forwarded_for}))["client"] == client


@pytest.mark.parametrize(("trusted", "scheme"), [(["127.0.0.1"], "https"), (["10.0.0.0/8"], "http"), ([], "http")])
async def test_x_forwarded_proto_is_honoured_only_from_a_trusted_hop(
    serve: Serve, trusted: list[str], scheme: str
) -> None:
    """Our choice: the scheme a client used reaches the app only through a trusted proxy."""
    with serve(trusted_proxies=trusted) as base_url:
        assert (await seen(base_url, **{"x-forwarded-proto": "https"}))["scheme"] == scheme


@pytest.mark.parametrize(
    ("forwarded", "client", "scheme"),
    [
        ("for=203.0.113.9;proto=https", "203.0.113.9", "https"),
        ('for="[2001:db8::7]:4711";proto=https', "2001:db8::7", "https"),
        ("for=198.51.100.7;proto=http, for=203.0.113.9;proto=https", "203.0.113.9", "https"),
        ("for=unknown", "unknown", "http"),
    ],
)
async def test_rfc7239_forwarded_is_read_when_configured(
    serve: Serve, forwarded: str, client: str, scheme: str
) -> None:
    """Spec (RFC 7239 §4, §6): ``listen.forwarded_header: forwarded`` reads ``Forwarded`` and not X-Forwarded-For."""
    with serve(trusted_proxies=["127.0.0.1"], forwarded_header="forwarded") as base_url:
        answer = await seen(base_url, forwarded=forwarded, **{"x-forwarded-for": "192.0.2.66"})
    assert answer == {"client": client, "scheme": scheme}


async def test_the_forwarded_header_is_ignored_in_the_default_mode(serve: Serve) -> None:
    """Our choice: one header only, the one the proxy writes; a client-sent ``Forwarded`` changes nothing."""
    with serve(trusted_proxies=["127.0.0.1"]) as base_url:
        answer = await seen(base_url, forwarded="for=192.0.2.66;proto=https")
    assert answer == {"client": "127.0.0.1", "scheme": "http"}


async def test_forwarded_clients_behind_a_trusted_proxy_get_separate_registration_limits(serve: Serve) -> None:
    """Our choice (issue #15 finding 3): one caller using up its limit does not block the others."""
    with serve(trusted_proxies=["127.0.0.1"]) as base_url:
        statuses = await registrations(base_url, "203.0.113.9", "203.0.113.9", "203.0.113.9", "198.51.100.7")
    assert statuses == [201, 201, 429, 201]


async def test_failed_registrations_use_up_only_the_failing_callers_limit(serve: Serve) -> None:
    """Our choice: refused attempts count, but against their own address only."""
    bad = {"redirect_uris": ["http://evil.example/cb"], "client_name": "x"}
    with serve(trusted_proxies=["127.0.0.1"]) as base_url:
        failed = await registrations(base_url, "203.0.113.9", "203.0.113.9", "203.0.113.9", body=bad)
        others = await registrations(base_url, "198.51.100.7", "2001:db8::1")
    assert failed == [400, 400, 429]
    assert others == [201, 201]


async def test_an_untrusted_peers_x_forwarded_for_does_not_split_the_limit(serve: Serve) -> None:
    """Our choice: without a trusted hop the socket peer is the client, whatever the headers claim."""
    with serve(trusted_proxies=["10.0.0.0/8"]) as base_url:
        statuses = await registrations(base_url, "203.0.113.1", "203.0.113.2", "203.0.113.3")
    assert statuses == [201, 201, 429]


async def test_ipv6_clients_share_a_limit_per_64(serve: Serve) -> None:
    """Our choice: an IPv6 subscriber usually holds a whole /64, so it is one caller."""
    with serve(trusted_proxies=["127.0.0.1"]) as base_url:
        statuses = await registrations(
            base_url, "2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2::3", "2001:db8:1:3::1"
        )
    assert statuses == [201, 201, 429, 201]


async def register_from(address: str, url: str, **headers: str) -> int:
    """``POST /register`` over a connection from the loopback ``address`` (127.0.0.2, … stand for distinct clients)."""
    transport = httpx2.AsyncHTTPTransport(local_address=address)
    async with httpx2.AsyncClient(transport=transport, timeout=30) as http:
        return (await http.post(f"{url}/register", json=REGISTRATION, headers=headers)).status_code


async def test_behind_a_real_reverse_proxy_hop_each_client_has_its_own_limit_and_cannot_forge_another(
    tmp_path: Path,
) -> None:
    """Our choice (issue #15 finding 3), end to end: ``portico serve`` behind a forwarder that appends the peer
    to ``X-Forwarded-For`` as docs/deploy.md prescribes; clients connect from 127.0.0.2 and 127.0.0.3."""
    config = {"oauth": {"registrations_per_minute": 2}, "listen": {"trusted_proxies": ["127.0.0.1"]}}
    with run_portico(tmp_path, config) as portico:
        async with serve_header_proxy(portico.base_url, lambda _path: {}, forwarded_for=True) as proxy:
            first = [await register_from("127.0.0.2", proxy) for _ in range(3)]
            forged = await register_from("127.0.0.2", proxy, **{"x-forwarded-for": "198.51.100.1"})
            second = await register_from("127.0.0.3", proxy)
        direct = await register_from("127.0.0.4", portico.base_url, **{"x-forwarded-for": "198.51.100.2"})
    assert first == [201, 201, 429]
    assert forged == 429  # the forged entry sits left of the hop the proxy appended
    assert second == 201
    assert direct == 201  # 127.0.0.4 is not a trusted proxy: its header is ignored, its own address counts
