"""The SSRF guard end to end: refused before any connection; pinned address, original Host/SNI."""

from __future__ import annotations

from ipaddress import ip_address

import anyio
import httpx2
import pytest

from oauth.cimd import ClientMetadataDocumentError, ClientMetadataResolver
from oauth.cimd.client_id_url import parse_client_id_url
from oauth.cimd.fetch import fetch_from_addresses
from tests.integration.oauth.cimd.document_server import DocumentServer, valid_document

pytestmark = pytest.mark.anyio


class RecordingTransport(httpx2.AsyncBaseTransport):
    """Answers every request with a valid document for ``client_id`` and keeps the requests."""

    def __init__(self, client_id: str) -> None:
        self.client_id = client_id
        self.requests: list[httpx2.Request] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        return httpx2.Response(200, json=valid_document(self.client_id))


async def refusal(resolver: ClientMetadataResolver, url: str) -> str:
    with anyio.fail_after(5), pytest.raises(ClientMetadataDocumentError) as caught:
        await resolver.resolve(url)
    return caught.value.reason


async def test_a_host_name_resolving_to_loopback_is_refused_before_any_connection(server: DocumentServer) -> None:
    """Spec-recommended (§6): ``localhost`` resolves to 127.0.0.1, so the server is never contacted."""
    server.serve_valid("/client.json")
    resolver = ClientMetadataResolver()
    try:
        reason = await refusal(resolver, f"https://localhost:{server.port}/client.json")
    finally:
        await resolver.aclose()

    assert reason == "address not allowed (loopback)"
    assert server.hits["/client.json"] == 0


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://127.0.0.1/client.json", "loopback"),
        ("https://[::1]/client.json", "loopback"),
        ("https://[::ffff:127.0.0.1]/client.json", "loopback"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://10.0.0.1/client.json", "private"),
        ("https://172.16.5.4/client.json", "private"),
        ("https://192.168.0.1/client.json", "private"),
        ("https://100.64.1.1/client.json", "shared address space"),
        ("https://[fd00::1]/client.json", "private"),
        ("https://[fe80::1]/client.json", "link-local"),
        ("https://0.0.0.0/client.json", "unspecified"),
    ],
)
async def test_ip_literal_client_ids_in_refused_ranges_never_reach_the_transport(url: str, reason: str) -> None:
    transport = RecordingTransport(url)
    async with httpx2.AsyncClient(transport=transport) as http:
        assert await refusal(ClientMetadataResolver(http), url) == f"address not allowed ({reason})"
    assert transport.requests == []


async def test_a_public_address_is_fetched_with_the_url_as_given() -> None:
    url = "https://93.184.215.14/oauth/client.json"
    transport = RecordingTransport(url)
    async with httpx2.AsyncClient(transport=transport) as http:
        document = await ClientMetadataResolver(http).resolve(url)

    assert document.host == "93.184.215.14"
    assert [str(request.url) for request in transport.requests] == [url]


async def test_the_request_goes_to_the_resolved_address_with_the_original_host_and_sni() -> None:
    """Resolve once, connect to exactly that address: a second DNS answer cannot redirect us.

    ``allow_hosts`` lifts the address check for ``localhost`` but not the pinning.
    """
    url = "https://localhost/oauth/client.json"
    transport = RecordingTransport(url)
    async with httpx2.AsyncClient(transport=transport) as http:
        await ClientMetadataResolver(http, allow_hosts=frozenset({"localhost"})).resolve(url)

    (request,) = transport.requests
    assert request.url.host in {"127.0.0.1", "::1"}
    assert request.url.path == "/oauth/client.json"
    assert request.headers["host"] == "localhost"
    assert request.extensions["sni_hostname"] == "localhost"


async def test_a_real_server_sees_the_original_host_header(server: DocumentServer) -> None:
    url = server.url("/client.json", host="localhost")
    server.serve_json("/client.json", valid_document(url))
    resolver = ClientMetadataResolver(allow_hosts=frozenset({"localhost"}))
    try:
        document = await resolver.resolve(url)
    finally:
        await resolver.aclose()

    assert document.host == "localhost"
    assert server.host_headers == [f"localhost:{server.port}"]


async def test_a_shared_clients_credentials_and_base_url_are_not_used() -> None:
    """A shared httpx2 client may carry an Authorization header or cookies for another service."""
    url = "https://93.184.215.14/oauth/client.json"
    transport = RecordingTransport(url)
    async with httpx2.AsyncClient(
        transport=transport,
        base_url="https://internal.example",
        headers={"Authorization": "Bearer not-for-you"},
        cookies={"session": "not-for-you"},
        auth=("user", "password"),
    ) as http:
        await ClientMetadataResolver(http).resolve(url)

    (request,) = transport.requests
    assert str(request.url) == url
    assert {"authorization", "cookie"}.isdisjoint(request.headers.keys())


async def test_the_next_address_is_tried_when_one_refuses_the_connection() -> None:
    url = "https://app.example.com/client.json"
    tried: list[str] = []

    def answer(request: httpx2.Request) -> httpx2.Response:
        tried.append(request.url.host)
        if request.url.host == "2606:4700::1111":
            raise httpx2.ConnectError("unreachable", request=request)
        return httpx2.Response(200, json=valid_document(url))

    target = parse_client_id_url(url)
    assert target is not None
    addresses = [ip_address("2606:4700::1111"), ip_address("93.184.215.14")]
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(answer)) as http:
        fetched = await fetch_from_addresses(http, target, addresses, max_bytes=5120)

    assert tried == ["2606:4700::1111", "93.184.215.14"]
    assert b"app.example.com/client.json" in fetched.body
