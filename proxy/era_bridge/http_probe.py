"""Does a Streamable HTTP upstream speak 2026-07-28? Ask it ``server/discover`` (2026-07-28 transports).

The probe is the request a dual-era client sends first: ``POST server/discover`` with
``MCP-Protocol-Version: 2026-07-28``, ``Mcp-Method`` and the ``_meta`` envelope. A result (JSON or
the first ``message`` event of an SSE answer) whose ``supportedVersions`` names a 2026-07-28
revision → modern (requests are forwarded as they are); any other answer (a handshake-era server
typically says 400 "missing session id" or 404) → handshake only (requests are bridged).
401/403 and an unreachable server raise and are not remembered.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

import httpx2
from mcp_types.version import LATEST_MODERN_VERSION, MODERN_PROTOCOL_VERSIONS

from app.config.schema import StreamableHttpServerConfig
from proxy.upstream.headers import upstream_headers
from proxy.upstream.http_client import upstream_timeouts
from proxy.wire.errors import UpstreamAuthFailedError, UpstreamUnavailableError
from proxy.wire.jsonrpc import encode
from proxy.wire.protocol import PROTOCOL_VERSION_HEADER
from proxy.wire.sse import SseDecoder

_ENVELOPE: Final = {
    "io.modelcontextprotocol/protocolVersion": LATEST_MODERN_VERSION,
    "io.modelcontextprotocol/clientCapabilities": {},
}
_PROBE: Final = {"jsonrpc": "2.0", "id": 0, "method": "server/discover", "params": {"_meta": _ENVELOPE}}
_MAX_PROBE_BYTES: Final = 1 << 20


async def speaks_modern_http(
    client: httpx2.AsyncClient, config: StreamableHttpServerConfig, headers: Mapping[str, str], server: str
) -> bool:
    """Whether the upstream answers ``server/discover`` as a 2026-07-28 server.

    Raises:
        UpstreamUnavailableError: unreachable.
        UpstreamAuthFailedError: 401/403.
    """
    request_headers = upstream_headers(
        headers,
        {
            "accept": "application/json, text/event-stream",
            "content-type": "application/json",
            PROTOCOL_VERSION_HEADER: LATEST_MODERN_VERSION,
            "mcp-method": "server/discover",
        },
    )
    request = client.build_request(
        "POST", config.url, headers=request_headers, content=encode(_PROBE), timeout=upstream_timeouts(config)
    )
    try:
        response = await client.send(request, stream=True)
        try:
            if response.status_code in (401, 403):
                raise UpstreamAuthFailedError(
                    f"upstream server {server} refused Portico's credential (HTTP {response.status_code})"
                )
            if response.status_code != 200:
                return False
            message = await _first_message(response)
        finally:
            await response.aclose()
    except httpx2.HTTPError as error:
        reason = type(error).__name__
        raise UpstreamUnavailableError(f"upstream server {server} is unreachable ({reason})") from error
    result = message.get("result") if isinstance(message, dict) else None
    versions = result.get("supportedVersions") if isinstance(result, dict) else None
    return isinstance(versions, list) and any(version in MODERN_PROTOCOL_VERSIONS for version in versions)


async def _first_message(response: httpx2.Response) -> Any:
    if not response.headers.get("content-type", "").lower().startswith("text/event-stream"):
        body = await response.aread()
        return json.loads(body) if body and len(body) <= _MAX_PROBE_BYTES else None
    decoder = SseDecoder(_MAX_PROBE_BYTES)
    async for chunk in response.aiter_bytes():
        for event in decoder.feed(chunk):
            if event.is_message and event.data:
                return json.loads(event.data)
    return None
