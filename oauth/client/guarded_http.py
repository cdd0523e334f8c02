"""HTTP for discovery and registration at an upstream's authorization server, behind the SSRF policy.

The host of every request is resolved once, its addresses are checked with the policy of Client ID
Metadata Document fetches (:func:`oauth.client.ssrf.check_addresses`: public addresses only), and the
connection is made to a checked address — so a DNS answer that changes between the check and the
connection (DNS rebinding) cannot reach an internal address. The request keeps its ``Host`` header
and TLS server name (httpcore2's ``sni_hostname`` extension, also used for certificate checks) and
is sent with ``Connection: close`` (the pool keys connections by IP, so no kept-alive connection
verified for one name carries another's request). Hosts in ``allow`` (``discovery_allow_hosts``:
internal or test deployments) are exempt and may use http; everything else must be https.

The same guard carries a discovered server's later token, refresh and revocation requests
(:class:`SharedGuardedTransport`): an endpoint checked at discovery is checked again, and pinned,
on every call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx2

from oauth.client.http import TIMEOUT
from oauth.client.ssrf import DestinationError, IPAddress, check_addresses, resolve_host

Resolve = Callable[[str, int], Awaitable[list[IPAddress]]]
Check = Callable[[list[IPAddress]], None]


class RefusedUrlError(httpx2.RequestError):
    """The policy refused the request's URL (scheme or addresses); nothing was sent."""


class GuardedTransport(httpx2.AsyncBaseTransport):
    """An httpx2 transport that connects only to addresses the SSRF policy accepted (module docstring)."""

    def __init__(
        self,
        allow: frozenset[str],
        *,
        resolve: Resolve = resolve_host,
        check: Check = check_addresses,
        inner: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        self._allow = allow
        self._resolve = resolve
        self._check = check
        self._inner = inner or httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        host = request.url.host.lower()
        if host in self._allow:
            return await self._inner.handle_async_request(request)
        if request.url.scheme != "https":
            raise RefusedUrlError("a discovered URL is not https", request=request)
        addresses = await self._checked_addresses(request, host)
        for address in addresses:
            try:
                return await self._inner.handle_async_request(_pinned(request, host, address))
            except httpx2.ConnectError:
                continue
        raise httpx2.ConnectError("could not connect to any checked address", request=request)

    async def _checked_addresses(self, request: httpx2.Request, host: str) -> list[IPAddress]:
        try:
            addresses = await self._resolve(host, request.url.port or 443)
            self._check(addresses)
        except DestinationError as error:
            raise RefusedUrlError(f"a discovered URL was refused: {error}", request=request) from None
        return addresses

    async def aclose(self) -> None:
        await self._inner.aclose()


class SharedGuardedTransport(GuardedTransport):
    """A :class:`GuardedTransport` shared by the short-lived clients Authlib builds for each call.

    Closing one of those clients must not close it for the next call; pinned requests are sent
    with ``Connection: close``, so no connection lingers in between.
    """

    async def aclose(self) -> None:
        """Kept open: it lives as long as the discovered client (the process)."""


def _pinned(request: httpx2.Request, host: str, address: IPAddress) -> httpx2.Request:
    headers = httpx2.Headers(request.headers)
    headers["Host"] = request.headers.get("host", host)
    headers["Connection"] = "close"
    return httpx2.Request(
        request.method,
        request.url.copy_with(host=str(address)),
        headers=headers,
        content=request.content,
        extensions={**request.extensions, "sni_hostname": host},
    )


def guarded_client(allow: frozenset[str]) -> httpx2.AsyncClient:
    """An httpx2 client for discovery/registration requests: guarded, no redirects, the sign-in timeout."""
    return httpx2.AsyncClient(transport=GuardedTransport(allow), timeout=TIMEOUT, follow_redirects=False)
