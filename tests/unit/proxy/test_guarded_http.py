"""Discovery, registration and a discovered client's token calls connect only to checked addresses (no rebinding).

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

from app.config.schema import OAuthCredentialsConfig
from oauth.client.errors import AuthorizationServerUnavailableError
from oauth.client.guarded_http import GuardedTransport, RefusedUrlError, SharedGuardedTransport
from oauth.client.ssrf import IPAddress, check_addresses
from proxy.credentials.oauth.client import ClientRegistration, UpstreamOAuthClient
from proxy.credentials.oauth.endpoints import AuthorizationServerEndpoints
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


def discovered_client(port: int, transport: httpx2.AsyncBaseTransport) -> UpstreamOAuthClient:
    base = f"https://{TLS_HOST}:{port}"
    return UpstreamOAuthClient(
        "notes",
        OAuthCredentialsConfig.model_validate({"type": "oauth", "discover": True}),
        AuthorizationServerEndpoints(f"{base}/authorize", f"{base}/token", f"{base}/revoke"),
        ClientRegistration("portico", None, "none"),
        transport=transport,
    )


async def test_a_discovered_token_endpoint_is_checked_again_on_every_call(server: RecordingServer) -> None:
    """Our choice: a name that resolves to an internal address after discovery (rebinding) gets nothing."""
    checked: list[list[IPAddress]] = []

    def check(addresses: list[IPAddress]) -> None:
        checked.append(addresses)
        check_addresses(addresses)

    guard = SharedGuardedTransport(frozenset(), resolve=resolving_to(LOOPBACK), check=check)
    with pytest.raises(AuthorizationServerUnavailableError, match="token endpoint could not be used"):
        await discovered_client(server.port, guard).refresh("a-refresh-token")
    assert checked == [[LOOPBACK]]
    assert server.requests == []


async def test_a_discovered_clients_calls_reach_the_checked_address_one_after_another() -> None:
    """The guard outlives each call's Authlib client: two refreshes and a revocation all get through."""
    authority = trustme.CA()
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    authority.issue_cert(TLS_HOST).configure_cert(server_context)
    client_context = ssl.create_default_context()
    authority.configure_trust(client_context)
    answer = {"access_token": "at", "token_type": "Bearer", "expires_in": 60}
    with recording_server(answer, server_context) as server:
        inner = httpx2.AsyncHTTPTransport(verify=client_context)
        guard = SharedGuardedTransport(frozenset(), resolve=resolving_to(LOOPBACK), check=accept_all, inner=inner)
        client = discovered_client(server.port, guard)
        for _ in range(2):
            assert (await client.refresh("a-refresh-token"))["access_token"] == "at"
        await client.revoke("a-refresh-token", "refresh_token")
    assert [(r.host, r.path) for r in server.requests] == [
        (f"{TLS_HOST}:{server.port}", p) for p in ("/token", "/token", "/revoke")
    ]
