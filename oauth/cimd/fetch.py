"""One guarded HTTP GET of a metadata document.

draft-ietf-oauth-client-id-metadata-document-00 §4: the document is fetched with GET and only a
``200`` response is usable; we follow no redirect at all (a 3xx is a failure). §6: responses
are capped (5 KB recommended). The request goes to the address the SSRF guard validated, while
``Host`` and TLS SNI (and so certificate verification) stay the URL's host name.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx2

from oauth.cimd.client_id_url import ClientIdUrl
from oauth.cimd.errors import ClientMetadataDocumentError
from oauth.client.ssrf import DestinationError, IPAddress, check_addresses, resolve_host

USER_AGENT = "Portico-CIMD/1 (client ID metadata document fetcher)"


@dataclass(frozen=True)
class FetchedDocument:
    """The raw body (at most ``max_bytes``) and headers of a ``200 application/json`` response."""

    body: bytes
    headers: httpx2.Headers


async def fetch_document(
    http: httpx2.AsyncClient, target: ClientIdUrl, *, guard: bool, max_bytes: int
) -> FetchedDocument:
    """Resolve, check the addresses (when ``guard``), connect and read.

    The caller sets the deadline for the whole of it (``anyio.fail_after``): a per-read timeout
    would let a server that sends one byte a second hold the request open indefinitely.

    Raises:
        ClientMetadataDocumentError: DNS failure, a refused address, no reachable address, a
            transport error, a redirect, a status other than 200, a content type other than
            ``application/json``, or a body over ``max_bytes``.
    """
    addresses = await _addresses(target, guard=guard)
    return await fetch_from_addresses(http, target, addresses, max_bytes=max_bytes)


async def _addresses(target: ClientIdUrl, *, guard: bool) -> list[IPAddress]:
    # The guard's refusal keeps its reason; this package reports every failure as its own error.
    try:
        addresses = await resolve_host(target.host, target.port)
        if guard:
            check_addresses(addresses)
    except DestinationError as error:
        raise ClientMetadataDocumentError(error.reason) from error
    return addresses


def pinned_request(target: ClientIdUrl, address: IPAddress) -> httpx2.Request:
    """A GET to ``address`` that presents itself as ``target``'s URL (``Host`` and TLS SNI).

    ``sni_hostname`` is the httpcore2 request extension that sets the TLS ``server_hostname``,
    which Python's ``ssl`` uses both for SNI and for verifying the certificate's name.
    ``Connection: close`` keeps the connection out of the pool: the pool keys connections by
    origin, here the IP address, so a kept-alive connection verified for one host name could
    otherwise carry a later request for another name that resolved to the same address.
    """
    url = httpx2.URL(target.url).copy_with(host=str(address))
    headers = {
        "Host": target.host_header,
        "Accept": "application/json",
        "Accept-Encoding": "identity",
        "User-Agent": USER_AGENT,
        "Connection": "close",
    }
    return httpx2.Request("GET", url, headers=headers, extensions={"sni_hostname": target.host})


async def fetch_from_addresses(
    http: httpx2.AsyncClient, target: ClientIdUrl, addresses: list[IPAddress], *, max_bytes: int
) -> FetchedDocument:
    """GET ``target`` from the first of ``addresses`` that accepts a connection, in order.

    Raises:
        ClientMetadataDocumentError: as :func:`fetch_document`, minus the DNS and address checks.
    """
    for address in addresses:
        try:
            request = pinned_request(target, address)
            response = await http.send(request, stream=True, auth=None, follow_redirects=False)
        except (httpx2.ConnectError, httpx2.ConnectTimeout):
            continue
        except (httpx2.HTTPError, httpx2.InvalidURL) as exc:
            raise ClientMetadataDocumentError(f"fetch failed ({type(exc).__name__})") from exc
        return await _read_response(response, max_bytes)
    raise ClientMetadataDocumentError("could not connect")


async def _read_response(response: httpx2.Response, max_bytes: int) -> FetchedDocument:
    try:
        _check_response(response, max_bytes)
        return FetchedDocument(await _read_capped(response, max_bytes), response.headers)
    finally:
        await response.aclose()


def _check_response(response: httpx2.Response, max_bytes: int) -> None:
    if 300 <= response.status_code < 400:
        raise ClientMetadataDocumentError(f"redirect refused (HTTP {response.status_code})")
    if response.status_code != 200:
        raise ClientMetadataDocumentError(f"unexpected HTTP status {response.status_code}")
    media_type = response.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        raise ClientMetadataDocumentError("content type is not application/json")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise ClientMetadataDocumentError("document too large")


async def _read_capped(response: httpx2.Response, max_bytes: int) -> bytes:
    body = bytearray()
    try:
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > max_bytes:
                raise ClientMetadataDocumentError("document too large")
    except httpx2.HTTPError as exc:
        raise ClientMetadataDocumentError(f"fetch failed ({type(exc).__name__})") from exc
    return bytes(body)
