"""An upstream reached over the legacy HTTP+SSE transport (2024-11-05 basic/transports §HTTP with SSE).

Portico plays the 2024-11-05 client: it opens ``GET <url>`` (``Accept: text/event-stream``), waits
for the server's ``endpoint`` event, and from then on POSTs every message to that endpoint while
the server's messages arrive as ``message`` events on the open stream. :class:`SseConnection`
implements :class:`proxy.upstream.connection.MessageConnection`, so the multiplexer, the pool and the
handshake cache serve it exactly like a stdio process: one connection per (user, server,
revision), ``initialize`` once, ids remapped.

The endpoint URI is resolved against the SSE URL (RFC 3986 §5), whether the server sends a path
(``/messages/?session_id=…``, as the SDK does), a relative reference or an absolute URL; one on
another origin (scheme, host, port) is refused, so a server cannot make Portico send its
credential elsewhere. The server's configured ``headers`` (``UpstreamCredentials``) go on the GET
and on every POST. When the stream ends the pool fails in-flight requests (``-32004``) and the
next request opens a new connection.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Final
from urllib.parse import urljoin, urlsplit

import anyio
import httpx2

from app.config.schema import StreamableHttpServerConfig
from proxy.upstream.headers import upstream_headers
from proxy.upstream.http_client import upstream_timeouts
from proxy.wire.errors import (
    UpstreamAuthFailedError,
    UpstreamFailedError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from proxy.wire.jsonrpc import encode
from proxy.wire.sse import SseDecoder, SseEvent, SseEventTooLargeError

log = logging.getLogger("portico.proxy.sse")
_SSE: Final = "text/event-stream"


def resolve_endpoint(sse_url: str, data: str) -> str:
    """The message endpoint announced by an ``endpoint`` event, resolved against the SSE URL.

    Raises:
        UpstreamUnavailableError: the endpoint is empty or on another origin than the SSE URL.
    """
    endpoint = urljoin(sse_url, data.strip())
    if not data.strip() or _origin(endpoint) != _origin(sse_url):
        raise UpstreamUnavailableError("the upstream announced a message endpoint on another origin")
    return endpoint


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port or default


class SseConnection:
    """One open legacy SSE session with an upstream; implements :class:`proxy.upstream.connection.MessageConnection`."""

    def __init__(
        self,
        *,
        client: httpx2.AsyncClient,
        response: httpx2.Response,
        events: AsyncIterator[SseEvent],
        endpoint: str,
        headers: Mapping[str, str],
        config: StreamableHttpServerConfig,
        label: str,
    ) -> None:
        self.label = label
        self.endpoint = endpoint
        self._client = client
        self._response = response
        self._events = events
        self._headers = dict(headers)
        self._config = config
        self._write_lock = anyio.Lock()
        self._closed = False

    @classmethod
    async def open(
        cls,
        *,
        client: httpx2.AsyncClient,
        config: StreamableHttpServerConfig,
        headers: Mapping[str, str],
        label: str,
        max_message_bytes: int,
    ) -> SseConnection:
        """GET the SSE URL and wait for the ``endpoint`` event (bounded by the pool's start timeout).

        Raises:
            UpstreamUnavailableError: unreachable, not an event stream, no or a foreign endpoint.
            UpstreamAuthFailedError: the upstream answered 401/403.
        """
        request_headers = upstream_headers(headers, {"accept": _SSE, "cache-control": "no-cache"})
        request = client.build_request("GET", config.url, headers=request_headers, timeout=upstream_timeouts(config))
        try:
            response = await client.send(request, stream=True)
        except httpx2.HTTPError as error:
            reason = type(error).__name__
            raise UpstreamUnavailableError(f"upstream server {label} is unreachable ({reason})") from error
        try:
            _check_stream(response, label)
            events = _read_events(response, max_message_bytes)
            endpoint = await _await_endpoint(events, config.url, label)
        except BaseException:
            await response.aclose()
            raise
        log.info("%s: legacy SSE session open, messages to %s", label, urlsplit(endpoint).path)
        return cls(
            client=client,
            response=response,
            events=events,
            endpoint=endpoint,
            headers=headers,
            config=config,
            label=label,
        )

    async def send(self, message: dict[str, Any]) -> None:
        """POST one message to the endpoint; the answer comes on the stream (the POST says 202).

        Raises:
            UpstreamFailedError / UpstreamTimeoutError / UpstreamAuthFailedError: not accepted.
        """
        if self._closed:
            raise UpstreamFailedError(f"upstream server {self.label} is not connected")
        headers = upstream_headers(self._headers, {"content-type": "application/json"})
        try:
            async with self._write_lock:  # keep the upstream's view of the order (like one stdin)
                response = await self._client.post(
                    self.endpoint, content=encode(message), headers=headers, timeout=upstream_timeouts(self._config)
                )
        except httpx2.TimeoutException as error:
            raise UpstreamTimeoutError(f"upstream server {self.label} did not accept a message in time") from error
        except httpx2.HTTPError as error:
            raise UpstreamFailedError(f"upstream server {self.label} failed ({type(error).__name__})") from error
        if response.status_code in (401, 403):
            raise UpstreamAuthFailedError(
                f"upstream server {self.label} refused Portico's credential (HTTP {response.status_code})"
            )
        if response.status_code >= 300:
            raise UpstreamFailedError(f"upstream server {self.label} refused a message (HTTP {response.status_code})")

    async def run(self, on_message: Callable[[object], None]) -> str:
        """Read ``message`` events until the stream ends; other events are ignored."""
        try:
            async for event in self._events:
                if not event.is_message or event.data is None:
                    continue
                try:
                    on_message(json.loads(event.data))
                except ValueError:
                    log.warning("%s: non-JSON message event ignored", self.label)
        except httpx2.ReadTimeout:
            return "went quiet (read timeout)"
        except SseEventTooLargeError as error:
            log.error("%s: %s; closing", self.label, error)
            return f"sent an oversized event: {error}"
        except (httpx2.HTTPError, anyio.ClosedResourceError, anyio.BrokenResourceError):
            return "lost its event stream"
        finally:
            self._closed = True
        return "closed its event stream"

    async def aclose(self) -> None:
        self._closed = True
        with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
            await self._response.aclose()


def _check_stream(response: httpx2.Response, label: str) -> None:
    if response.status_code in (401, 403):
        raise UpstreamAuthFailedError(
            f"upstream server {label} refused Portico's credential (HTTP {response.status_code})"
        )
    content_type = response.headers.get("content-type", "").lower()
    if response.status_code != 200 or not content_type.startswith(_SSE):
        raise UpstreamUnavailableError(
            f"upstream server {label} did not open an event stream (HTTP {response.status_code})"
        )


async def _read_events(response: httpx2.Response, max_event_bytes: int) -> AsyncIterator[SseEvent]:
    decoder = SseDecoder(max_event_bytes)
    async for chunk in response.aiter_bytes():
        for event in decoder.feed(chunk):
            yield event


async def _await_endpoint(events: AsyncIterator[SseEvent], sse_url: str, label: str) -> str:
    try:
        async for event in events:
            if event.event == "endpoint" and event.data is not None:
                return resolve_endpoint(sse_url, event.data)
    except httpx2.HTTPError as error:
        raise UpstreamUnavailableError(f"upstream server {label} broke its event stream") from error
    raise UpstreamUnavailableError(f"upstream server {label} closed its event stream before naming an endpoint")
