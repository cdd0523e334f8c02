"""Discovery/registration HTTP connects only to addresses the SSRF policy checked (no DNS rebinding).

A real loopback HTTP(S) server stands in for the upstream's authorization server; the resolver is
injected so a made-up host name can "resolve" to it — which only works if the transport connects to
the checked address instead of resolving the name again.
"""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
import trustme

from oauth.cimd.ssrf import IPAddress, check_addresses
from proxy.upstream_oauth.guarded_http import GuardedTransport, RefusedUrlError
from tests.support.recording_http import RecordingServer, recording_server

pytestmark = pytest.mark.anyio
LOOPBACK = ipaddress.ip_address("127.0.0.1")
TLS_HOST = "as.example.test"


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    with recording_server({"ok": True}) as running:
        yield running


@pytest.fixture
def tls_server() -> Iterator[tuple[RecordingServer, ssl.SSLContext]]:
    """An HTTPS server whose certificate names only ``as.example.test`` (a test CA the client trusts)."""
    authority = trustme.CA()
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    authority.issue_cert(TLS_HOST).configure_cert(server_context)
    client_context = ssl.create_default_context()
    authority.configure_trust(client_context)
    with recording_server({"ok": True}, server_context) as running:
        yield running, client_context


def resolving_to(address: IPAddress) -> Any:
    async def resolve(host: str, port: int) -> list[IPAddress]:
        return [address]

    return resolve


def accept_all(addresses: list[IPAddress]) -> None:
    return None


async def test_a_host_resolving_to_an_internal_address_is_refused_before_anything_is_sent(
    server: RecordingServer,
) -> None:
    transport = GuardedTransport(frozenset(), resolve=resolving_to(LOOPBACK), check=check_addresses)
    async with httpx2.AsyncClient(transport=transport) as http:
        with pytest.raises(RefusedUrlError, match="refused"):
            await http.get(f"https://as.example.test:{server.port}/.well-known/oauth-authorization-server")
    assert server.requests == []


async def test_plain_http_is_refused_outside_the_allow_list() -> None:
    transport = GuardedTransport(frozenset(), resolve=resolving_to(LOOPBACK), check=accept_all)
    async with httpx2.AsyncClient(transport=transport) as http:
        with pytest.raises(RefusedUrlError, match="not https"):
            await http.get("http://as.example.test/metadata")


async def test_the_connection_goes_to_the_checked_address_with_the_original_host_and_tls_name(
    tls_server: tuple[RecordingServer, ssl.SSLContext],
) -> None:
    """``as.example.test`` does not resolve in real DNS: only a transport that connects to the checked address
    reaches the server, and the certificate (issued for that name) verifies only with the original SNI name."""
    server, client_context = tls_server
    inner = httpx2.AsyncHTTPTransport(verify=client_context)
    transport = GuardedTransport(frozenset(), resolve=resolving_to(LOOPBACK), check=accept_all, inner=inner)
    async with httpx2.AsyncClient(transport=transport) as http:
        response = await http.get(f"https://{TLS_HOST}:{server.port}/doc")
    assert response.json() == {"ok": True}
    assert [(r.host, r.path) for r in server.requests] == [(f"{TLS_HOST}:{server.port}", "/doc")]


async def test_an_allow_listed_host_is_fetched_as_is(server: RecordingServer) -> None:
    transport = GuardedTransport(frozenset({"127.0.0.1"}))
    async with httpx2.AsyncClient(transport=transport) as http:
        response = await http.get(f"http://127.0.0.1:{server.port}/meta")
    assert response.status_code == 200 and server.requests[-1].path == "/meta"
