"""The gateway's HTTP clients towards upstream servers — kept behind this one module.

Two clients, chosen by measurement (docs/adr/0004-data-plane-http-client.md):

- :class:`DataPlaneClient` (aiohttp) carries every proxied Streamable HTTP exchange — the hot
  path. One ``aiohttp.ClientSession`` for every upstream, opened on first use in the serving loop:
  pooled keep-alive connections (``gateway.http_max_connections``, idle ones closed after
  ``gateway.http_keepalive_expiry``), no redirects (an upstream URL is configuration, not
  something to be moved by a 30x), no proxy or netrc from the environment, **no cookie jar**
  (one session serves every user: a ``Set-Cookie`` from an upstream must never reach another
  user's request), no content decoding (bytes are relayed as they come). Responses are streamed:
  nothing is buffered here. Its failures are the three neutral :class:`UpstreamHttpError` kinds
  below; the callers turn them into JSON-RPC errors.
- ``create_upstream_client`` (httpx2) for the rest: the legacy HTTP+SSE upstream connections
  (:mod:`proxy.upstream.sse_connection`) and the transport probe of ``auto`` servers.

Timeouts are per server and per phase — ``connect_timeout`` for acquiring a pooled connection
or connecting, ``read_timeout`` for the gap between two reads (waiting for the head included) —
never one deadline for the whole exchange, so an SSE stream may last as long as it keeps talking.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

import aiohttp
import httpx2
from opentelemetry.trace import Span

from app.config.schema import GatewayConfig, StreamableHttpServerConfig
from app.observe import tracing


def create_upstream_client(settings: GatewayConfig) -> httpx2.AsyncClient:
    limits = httpx2.Limits(
        max_connections=settings.http_max_connections,
        max_keepalive_connections=settings.http_max_keepalive_connections,
        keepalive_expiry=settings.http_keepalive_expiry,
    )
    return httpx2.AsyncClient(limits=limits, timeout=httpx2.Timeout(30.0), follow_redirects=False, trust_env=False)


def upstream_timeouts(server: StreamableHttpServerConfig) -> httpx2.Timeout:
    return httpx2.Timeout(
        connect=server.connect_timeout,
        pool=server.connect_timeout,
        write=server.connect_timeout,
        read=server.read_timeout,
    )


class UpstreamHttpError(Exception):
    """The exchange failed; ``str(error)`` names the cause's class only (never a URL, header or body)."""


class UpstreamConnectError(UpstreamHttpError):
    """No connection: refused, unresolvable, or none acquired within ``connect_timeout``."""


class UpstreamReadTimeoutError(UpstreamHttpError):
    """The upstream went quiet for ``read_timeout`` (before its head, or between two body reads)."""


def _mapped(error: BaseException) -> UpstreamHttpError:
    name = type(error).__name__
    if isinstance(error, aiohttp.ConnectionTimeoutError | aiohttp.ClientConnectorError):
        return UpstreamConnectError(name)
    if isinstance(error, aiohttp.ServerTimeoutError | asyncio.TimeoutError):
        return UpstreamReadTimeoutError(name)
    return UpstreamHttpError(name)


_FAILURES = (aiohttp.ClientError, asyncio.TimeoutError, OSError)


class UpstreamResponse:
    """A streamed upstream response: status and headers now, the body through :meth:`chunks`."""

    def __init__(self, response: aiohttp.ClientResponse, span: Span | None = None) -> None:
        self._response = response
        self.status_code = response.status
        self._span = span  # tracing on: the upstream call's CLIENT span, ended with the response

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive)."""
        return self._response.headers.get(name)

    def header_items(self) -> list[tuple[str, str]]:
        """Every header line, in order."""
        return list(self._response.headers.items())

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives (``Transfer-Encoding`` undone, content coding untouched).

        Raises:
            UpstreamReadTimeoutError: nothing arrived for ``read_timeout``.
            UpstreamHttpError: the connection broke or the framing was invalid.
        """
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except _FAILURES as error:
            raise _mapped(error) from error

    async def aclose(self) -> None:
        """Return the connection to the pool if the body was read to its end, else close it."""
        self._response.release()
        if self._span is not None:
            self._span.end()
            self._span = None


class DataPlaneClient:
    """The proxied-traffic client (aiohttp); use as ``async with`` around the serving lifetime."""

    def __init__(self, settings: GatewayConfig) -> None:
        self._settings = settings
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        settings = self._settings
        connector = aiohttp.TCPConnector(
            limit=settings.http_max_connections,
            limit_per_host=0,
            keepalive_timeout=settings.http_keepalive_expiry,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            trust_env=False,
            timeout=aiohttp.ClientTimeout(total=None),
        )
        return self._session

    async def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None,
        connect_timeout: float,
        read_timeout: float,
    ) -> UpstreamResponse:
        """Send one request and return once the response head is in (the body is left to stream).

        Raises:
            UpstreamConnectError / UpstreamReadTimeoutError / UpstreamHttpError: no response head.
        """
        if tracing.ON:
            return await self._traced(method, url, headers, body, connect_timeout, read_timeout)
        return await self._send(method, url, headers, body, connect_timeout, read_timeout)

    async def _send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        connect_timeout: float,
        read_timeout: float,
        span: Span | None = None,
    ) -> UpstreamResponse:
        session = self._session or self._open()
        timeout = aiohttp.ClientTimeout(total=None, connect=connect_timeout, sock_read=read_timeout)
        try:
            response = await session.request(
                method, url, headers=headers, data=body, allow_redirects=False, timeout=timeout
            )
        except _FAILURES as error:
            raise _mapped(error) from error
        return UpstreamResponse(response, span)

    async def _traced(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        connect_timeout: float,
        read_timeout: float,
    ) -> UpstreamResponse:
        """:meth:`_send` in a CLIENT span whose ``traceparent`` replaces the client's (the upstream's parent)."""
        span = upstream_span(method, url)
        outgoing = dict(headers)
        tracing.inject(outgoing, span)
        try:
            response = await self._send(method, url, outgoing, body, connect_timeout, read_timeout, span)
        except BaseException as error:
            tracing.fail(span, type(error).__qualname__, None)
            span.end()
            raise
        span.set_attribute("http.response.status_code", response.status_code)
        if response.status_code >= 400:
            tracing.fail(span, str(response.status_code), None)
        return response

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


def upstream_span(method: str, url: str) -> Span:
    """The CLIENT span of one HTTP request to an upstream (never the URL's path or query: they may hold secrets)."""
    name, attributes = tracing.mcp_attributes_of_current()
    parts = urlsplit(url)
    attributes.update(
        {
            "http.request.method": method,
            "server.address": parts.hostname or "",
            "server.port": parts.port or (443 if parts.scheme == "https" else 80),
            "network.transport": "tcp",
            "network.protocol.name": "http",
        }
    )
    return tracing.start_client_span(name or method, attributes)
