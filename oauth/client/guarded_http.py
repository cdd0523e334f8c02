"""HTTP to URLs an upstream handed out (discovery, registration, endpoints), behind the SSRF policy.

The policy (:func:`checked_destination`): hosts in ``allow`` (``discovery_allow_hosts``: internal
or test deployments) are exempt and may use http; everything else must be https, and its host
must resolve to public addresses only (:func:`oauth.client.ssrf.check_addresses`, the policy of
Client ID Metadata Document fetches).

:class:`GuardedTransport` applies it to every request: the host is resolved once, its addresses
are checked, and the connection is made to a checked address — so a DNS answer that changes
between the check and the connection (DNS rebinding) cannot reach an internal address. The request
keeps its ``Host`` header and TLS server name (httpcore2's ``sni_hostname`` extension, also used
for certificate checks) and is sent with ``Connection: close`` (the pool keys connections by IP, so
no kept-alive connection verified for one name carries another's request).

The same guard carries a discovered server's later token, refresh and revocation requests
(:class:`SharedGuardedTransport`): an endpoint checked at discovery is checked again, and pinned,
on every call. :func:`check_url` checks a URL up front, so that a refusal reads as such rather
than as a failed fetch.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import httpx2

from oauth.client.errors import AuthorizationServerUnavailableError
from oauth.client.http import TIMEOUT, get_json_object
from oauth.client.ssrf import DestinationError, IPAddress, check_addresses, resolve_host

Resolve = Callable[[str, int], Awaitable[list[IPAddress]]]
Check = Callable[[list[IPAddress]], None]


class RefusedUrlError(httpx2.RequestError):
    """The policy refused the request's URL (scheme or addresses); nothing was sent."""


async def checked_destination(
    scheme: str,
    host: str,
    port: int | None,
    allow: frozenset[str],
    *,
    resolve: Resolve = resolve_host,
    check: Check = check_addresses,
) -> list[IPAddress] | None:
    """The checked addresses to connect to for a URL's ``scheme``, ``host`` (lower case) and ``port``
    (None: 443); None for a host in ``allow``, which is connected to as is.

    Raises:
        AuthorizationServerUnavailableError: not https, or the host does not resolve or resolves to
            an address the policy refuses (the reason names no address).
    """
    if host in allow:
        return None
    if scheme != "https":
        raise AuthorizationServerUnavailableError("a discovered URL is not https")
    try:
        addresses = await resolve(host, port or 443)
        check(addresses)
    except DestinationError as error:
        raise AuthorizationServerUnavailableError(f"a discovered URL was refused: {error}") from None
    return addresses


async def check_url(url: str, allow: frozenset[str]) -> None:
    """The SSRF policy for ``url``: an absolute http(s) URL without userinfo, then :func:`checked_destination`.

    Raises:
        AuthorizationServerUnavailableError: not such a URL, not https (outside ``allow``), or an
            address the policy refuses.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host or parts.username or parts.password or parts.scheme not in ("http", "https"):
        raise AuthorizationServerUnavailableError("a discovered URL is not an absolute http(s) URL")
    # The port is read (and may be refused by urlsplit) only where addresses are resolved.
    port = parts.port if parts.scheme == "https" and host not in allow else None
    await checked_destination(parts.scheme, host, port, allow)


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
        try:
            addresses = await checked_destination(
                request.url.scheme, host, request.url.port, self._allow, resolve=self._resolve, check=self._check
            )
        except AuthorizationServerUnavailableError as error:
            raise RefusedUrlError(str(error), request=request) from None
        if addresses is None:
            return await self._inner.handle_async_request(request)
        for address in addresses:
            try:
                return await self._inner.handle_async_request(_pinned(request, host, address))
            except httpx2.ConnectError:
                continue
        raise httpx2.ConnectError("could not connect to any checked address", request=request)

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
    """An httpx2 client for discovery/registration requests: guarded, no redirects, the OAuth client's timeout."""
    return httpx2.AsyncClient(transport=GuardedTransport(allow), timeout=TIMEOUT, follow_redirects=False)


async def guarded_get_json(url: str, what: str, allow: frozenset[str]) -> dict[str, Any]:
    """:func:`~oauth.client.http.get_json_object` after :func:`check_url`, connected to a checked address only.

    Raises:
        AuthorizationServerUnavailableError: the URL is refused, or as ``get_json_object``.
    """
    await check_url(url, allow)
    return await get_json_object(url, what, transport=GuardedTransport(allow))
