"""A handshake-era Streamable HTTP upstream as a :class:`proxy.upstream.connection.MessageConnection`.

Bridging a 2026-07-28 client needs one initialized upstream session per (user, server) shared by
many requests with remapped ids — what ``MessageBackend`` does for stdio and legacy SSE. This
connection lets the same pool, multiplexer and bridge serve Streamable HTTP upstreams
(2025-11-25 basic/transports §Streamable HTTP, client side):

- every message is POSTed (``Accept: application/json, text/event-stream``, the server's configured
  ``headers``, and after ``initialize`` the upstream's ``Mcp-Session-Id`` and the negotiated
  ``MCP-Protocol-Version``); the answer — 202, a JSON body, or an SSE stream (read in the
  background, event by event, until it ends) — is handed to the multiplexer as messages;
- after ``notifications/initialized`` a ``GET`` stream is opened for messages not tied to a request
  (best effort: a 405 means the server has none);
- a 404 on the session ends the connection (the pool starts a new one on the next request);
  ``aclose`` DELETEs the upstream session (best effort).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any, Final

import anyio
import httpx2
from anyio.abc import TaskGroup

from app.config.schema import StreamableHttpServerConfig
from proxy.upstream.headers import upstream_headers
from proxy.upstream.http_client import upstream_timeouts
from proxy.wire.errors import (
    GatewayError,
    UpstreamAuthFailedError,
    UpstreamFailedError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from proxy.wire.jsonrpc import RequestId, encode
from proxy.wire.protocol import PROTOCOL_VERSION_HEADER, SESSION_ID_HEADER
from proxy.wire.sse import SseDecoder, SseEventTooLargeError

log = logging.getLogger("portico.proxy")
_SSE: Final = "text/event-stream"


class HttpMessageConnection:
    """One upstream Streamable HTTP session of the handshake era, message by message."""

    def __init__(
        self,
        *,
        client: httpx2.AsyncClient,
        config: StreamableHttpServerConfig,
        headers: Mapping[str, str],
        label: str,
        max_message_bytes: int,
    ) -> None:
        self.label = label
        self._client = client
        self._config = config
        self._headers = dict(headers)
        self._max = max_message_bytes
        self._session_id: str | None = None
        self._protocol_version: str | None = None
        self._group: TaskGroup | None = None
        self._ready = anyio.Event()
        self._ended = anyio.Event()
        self._ending = "closed its session"
        self._on_message: Callable[[object], None] = lambda _message: None

    async def send(self, message: dict[str, Any]) -> None:
        """POST one message; its answer (JSON or an SSE stream) is read in the background.

        Raises:
            UpstreamUnavailableError / UpstreamTimeoutError / UpstreamFailedError /
            UpstreamAuthFailedError: the upstream did not take the message.
        """
        await self._ready.wait()
        if self._ended.is_set() or self._group is None:
            raise UpstreamFailedError(f"upstream server {self.label} is not connected")
        response = await self._request("POST", encode(message))
        if response.status_code in (401, 403):
            await response.aclose()
            raise UpstreamAuthFailedError(
                f"upstream server {self.label} refused Portico's credential (HTTP {response.status_code})"
            )
        if response.status_code == 404 and self._session_id is not None:
            await response.aclose()
            self._end("ended its session (HTTP 404)")
            raise UpstreamFailedError(f"upstream server {self.label} ended its session")
        if message.get("method") == "initialize":
            self._session_id = response.headers.get(SESSION_ID_HEADER)
        if message.get("method") == "notifications/initialized":
            self._group.start_soon(self._listen)
        self._group.start_soon(self._read, response, message.get("id"))

    async def run(self, on_message: Callable[[object], None]) -> str:
        """Own the background readers until the session ends; returns how it ended."""
        self._on_message = self._observe(on_message)
        async with anyio.create_task_group() as group:
            self._group = group
            self._ready.set()
            await self._ended.wait()
            group.cancel_scope.cancel()
        return self._ending

    async def aclose(self) -> None:
        self._end("was closed")
        self._ready.set()
        if self._session_id is None:
            return
        headers = self._base_headers()
        with anyio.CancelScope(shield=True), contextlib.suppress(httpx2.HTTPError):
            with anyio.move_on_after(self._config.connect_timeout):
                await self._client.delete(self._config.url, headers=headers, timeout=upstream_timeouts(self._config))

    def _observe(self, on_message: Callable[[object], None]) -> Callable[[object], None]:
        def observe(value: object) -> None:
            result = value.get("result") if isinstance(value, dict) else None
            if isinstance(result, dict) and "serverInfo" in result and isinstance(result.get("protocolVersion"), str):
                self._protocol_version = result["protocolVersion"]
            on_message(value)

        return observe

    def _end(self, how: str) -> None:
        if not self._ended.is_set():
            self._ending = how
            self._ended.set()

    def _base_headers(self) -> dict[str, str]:
        protocol: dict[str, str] = {}
        if self._session_id is not None:
            protocol[SESSION_ID_HEADER] = self._session_id
        if self._protocol_version is not None:
            protocol[PROTOCOL_VERSION_HEADER] = self._protocol_version
        return upstream_headers(self._headers, protocol)

    async def _request(self, method: str, body: bytes | None) -> httpx2.Response:
        headers = self._base_headers()
        headers["accept"] = f"application/json, {_SSE}" if method == "POST" else _SSE
        if body is not None:
            headers["content-type"] = "application/json"
        request = self._client.build_request(
            method, self._config.url, headers=headers, content=body, timeout=upstream_timeouts(self._config)
        )
        try:
            return await self._client.send(request, stream=True)
        except (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout) as error:
            reason = type(error).__name__
            raise UpstreamUnavailableError(f"upstream server {self.label} is unreachable ({reason})") from error
        except httpx2.TimeoutException as error:
            raise UpstreamTimeoutError(f"upstream server {self.label} did not answer in time") from error
        except httpx2.HTTPError as error:
            raise UpstreamFailedError(f"upstream server {self.label} failed ({type(error).__name__})") from error

    async def _read(self, response: httpx2.Response, request_id: RequestId | None) -> None:
        """Hand the messages of one POST's answer to the multiplexer; a failure answers ``request_id``."""
        failure: GatewayError | None = None
        try:
            content_type = response.headers.get("content-type", "").lower()
            if content_type.startswith(_SSE):
                await self._read_events(response)
            elif response.status_code != 202:
                body = await response.aread()
                if len(body) > self._max:
                    failure = self._failed("sent a response over the message size bound")
                elif body and self._deliver(body, request_id if response.status_code >= 400 else None):
                    pass
                elif response.status_code >= 300:
                    failure = self._failed(f"answered HTTP {response.status_code}")
        except httpx2.ReadTimeout:
            failure = UpstreamTimeoutError(f"upstream server {self.label} stopped sending (read timeout)")
        except (httpx2.HTTPError, SseEventTooLargeError) as error:
            failure = self._failed(f"broke its response stream ({type(error).__name__})")
        finally:
            await response.aclose()
        if failure is not None and request_id is not None:
            self._on_message(failure.to_message(request_id))

    def _failed(self, how: str) -> GatewayError:
        return UpstreamFailedError(f"upstream server {self.label} {how}")

    async def _listen(self) -> None:
        """The session's GET stream (server→client messages outside requests); best effort."""
        with contextlib.suppress(Exception):
            response = await self._request("GET", None)
            try:
                if response.status_code == 200 and response.headers.get("content-type", "").startswith(_SSE):
                    await self._read_events(response)
            finally:
                await response.aclose()

    async def _read_events(self, response: httpx2.Response) -> None:
        decoder = SseDecoder(self._max)
        async for chunk in response.aiter_bytes():
            for event in decoder.feed(chunk):
                if event.is_message and event.data:
                    self._deliver(event.data.encode())

    def _deliver(self, data: bytes, refused: object = None) -> bool:
        """Pass on the messages in ``data``; a transport-level error (``id: null``) answers ``refused``."""
        try:
            value = json.loads(data)
        except ValueError:
            log.warning("%s: non-JSON message ignored", self.label)
            return False
        for message in value if isinstance(value, list) else [value]:
            if refused is not None and isinstance(message, dict) and "error" in message and message.get("id") is None:
                message = {**message, "id": refused}
            self._on_message(message)
        return True
