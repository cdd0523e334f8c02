"""One 2026-07-28 request to a Streamable HTTP upstream, as the reverse era bridge sends it.

A stateless POST with the routing headers (``MCP-Protocol-Version``, ``Mcp-Method``, ``Mcp-Name``)
and the server's credential (plus the signed identity, :mod:`proxy.credentials.identity`); the answer
is a JSON body or an SSE stream whose notifications are relayed and whose final message is returned
(``modern_upstream.ModernExchange``).
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
from mcp.shared.inbound import MCP_METHOD_HEADER, MCP_NAME_HEADER, NAME_BEARING_METHODS, encode_header_value
from mcp_types.version import LATEST_MODERN_VERSION

from app.config.schema import GatewayConfig, StreamableHttpServerConfig
from oauth.tokens.access_tokens import AccessTokenClaims
from proxy.credentials.identity import UpstreamIdentities
from proxy.credentials.sources import UpstreamCredentials
from proxy.upstream.headers import upstream_headers
from proxy.upstream.http_client import upstream_timeouts
from proxy.wire.errors import UpstreamFailedError, UpstreamTimeoutError, UpstreamUnavailableError
from proxy.wire.jsonrpc import encode
from proxy.wire.outbox import Outbox, Outgoing
from proxy.wire.protocol import PROTOCOL_VERSION_HEADER
from proxy.wire.sse import SseDecoder


class HttpModernExchange:
    def __init__(
        self,
        server: str,
        config: StreamableHttpServerConfig,
        *,
        client: httpx2.AsyncClient,
        credentials: UpstreamCredentials,
        settings: GatewayConfig,
        identities: UpstreamIdentities | None = None,
    ) -> None:
        self.server = server
        self._config = config
        self._client = client
        self._credentials = credentials
        self._settings = settings
        self._identities = identities  # None: the server sends no signed identity

    async def __call__(
        self, subject: str, claims: AccessTokenClaims | None, message: dict[str, Any], outbox: Outbox | None
    ) -> dict[str, Any]:
        """POST one 2026-07-28 request; relay its notifications to ``outbox``; return its final message.

        Carries the server's credential and, with ``servers.<name>.identity``, the identity of ``claims``.

        Raises:
            UpstreamUnavailableError / UpstreamTimeoutError / UpstreamFailedError: no final message.
        """
        presented = dict(await self._credentials.http_headers(subject, self.server))
        if self._identities is not None:
            presented.update(await self._identities.headers(self.server, claims))
        headers = upstream_headers(
            presented,
            {
                "accept": "application/json, text/event-stream",
                "content-type": "application/json",
                PROTOCOL_VERSION_HEADER: LATEST_MODERN_VERSION,
                MCP_METHOD_HEADER: message["method"],
            },
        )
        name_key = NAME_BEARING_METHODS.get(message["method"])
        name = (message.get("params") or {}).get(name_key) if name_key else None
        if isinstance(name, str):
            headers[MCP_NAME_HEADER] = encode_header_value(name)
        request = self._client.build_request(
            "POST", self._config.url, headers=headers, content=encode(message), timeout=upstream_timeouts(self._config)
        )
        try:
            response = await self._client.send(request, stream=True)
        except (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout) as error:
            reason = type(error).__name__
            raise UpstreamUnavailableError(f"upstream server {self.server} is unreachable ({reason})") from error
        except httpx2.HTTPError as error:
            raise UpstreamFailedError(f"upstream server {self.server} failed ({type(error).__name__})") from error
        try:
            async for value in _messages(response, self._settings.max_message_bytes):
                if isinstance(value, dict) and ("result" in value or "error" in value):
                    return value
                if outbox is not None and isinstance(value, dict) and "method" in value and "id" not in value:
                    outbox.put(Outgoing(value))
        except httpx2.ReadTimeout as error:
            raise UpstreamTimeoutError(f"upstream server {self.server} stopped sending (read timeout)") from error
        except (httpx2.HTTPError, ValueError) as error:
            raise UpstreamFailedError(f"upstream server {self.server} broke its response") from error
        finally:
            await response.aclose()
        raise UpstreamFailedError(
            f"upstream server {self.server} answered HTTP {response.status_code} without a response"
        )


async def _messages(response: httpx2.Response, limit: int) -> Any:
    """The JSON-RPC messages of a response: its JSON body, or each SSE ``message`` event."""
    if not response.headers.get("content-type", "").lower().startswith("text/event-stream"):
        body = await response.aread()
        if body and len(body) <= limit:
            yield json.loads(body)
        return
    decoder = SseDecoder(limit)
    async for chunk in response.aiter_bytes():
        for event in decoder.feed(chunk):
            if event.is_message and event.data:
                yield json.loads(event.data)
