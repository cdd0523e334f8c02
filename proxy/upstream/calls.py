"""Portico's own requests on an upstream message connection (never a client's).

- the 2026-07-28 probe: ``server/discover`` decides whether a stdio server speaks the modern era
  (2026-07-28 basic/transports/stdio.mdx: dual-era clients probe first);
- the tool schemas needed to check ``Mcp-Param-*`` headers (SEP-2243) for servers that never see
  HTTP headers themselves: remembered from every ``tools/list`` result that passes, fetched
  with ``tools/list`` only when a call names a tool not seen yet.
"""

from __future__ import annotations

from typing import Any, Final

from mcp.shared.inbound import validate_mcp_param_headers
from mcp_types.version import LATEST_MODERN_VERSION, MODERN_PROTOCOL_VERSIONS
from starlette.datastructures import Headers

from proxy.upstream.multiplexer import Pending
from proxy.upstream.pool import Upstream
from proxy.wire.errors import GatewayError, HeaderMismatchError
from proxy.wire.exchange import Exchange
from proxy.wire.jsonrpc import JsonRpcRequest
from proxy.wire.outbox import Outbox, Outgoing

ENVELOPE_PREFIX: Final = "io.modelcontextprotocol/"
_SCHEMA_PAGES: Final = 20


async def internal_request(upstream: Upstream, message: dict[str, Any], *, capacity: int) -> dict[str, Any]:
    """Send Portico's own request and return the upstream's response message.

    Raises:
        GatewayError: the connection failed before answering (e.g. the process exited).
    """
    outbox = Outbox(capacity, f"{upstream.key.server}/internal")
    await upstream.mux.request(message, outbox=outbox, session=None, internal=True)
    while (item := await outbox.get()) is not None:
        if item.final:
            if item.http_status is not None:
                raise gateway_error_of(item)
            return item.message
    return {}


async def speaks_modern(upstream: Upstream, *, capacity: int) -> bool:
    """Whether ``server/discover`` answers with a 2026-07-28 revision among ``supportedVersions``."""
    meta = {f"{ENVELOPE_PREFIX}protocolVersion": LATEST_MODERN_VERSION, f"{ENVELOPE_PREFIX}clientCapabilities": {}}
    probe = {"jsonrpc": "2.0", "id": 0, "method": "server/discover", "params": {"_meta": meta}}
    response = await internal_request(upstream, probe, capacity=capacity)
    versions = (response.get("result") or {}).get("supportedVersions")
    return isinstance(versions, list) and any(v in MODERN_PROTOCOL_VERSIONS for v in versions)


def remember_tool_schemas(upstream: Upstream, pending: Pending, result: dict[str, Any]) -> None:
    """Record each tool's ``inputSchema`` from a ``tools/list`` result on its way to a client."""
    if pending.method == "tools/list" and isinstance(tools := result.get("tools"), list):
        for tool in tools:
            if isinstance(tool, dict) and isinstance(tool.get("name"), str):
                upstream.tool_schemas[tool["name"]] = tool.get("inputSchema")


async def check_mcp_param_headers(
    upstream: Upstream, exchange: Exchange, request: JsonRpcRequest, *, capacity: int
) -> None:
    """``Mcp-Param-*`` must mirror the arguments the tool's schema marks ``x-mcp-header``.

    Raises:
        HeaderMismatchError: a header is missing, extra, duplicated or different (-32020, 400).
    """
    params = request.params or {}
    name, arguments = params.get("name"), params.get("arguments") or {}
    if request.method != "tools/call" or not isinstance(name, str) or not isinstance(arguments, dict):
        return
    if not arguments and not any(key.startswith("mcp-param-") for key, _ in exchange.headers):
        return
    if name not in upstream.tool_schemas:
        await _fetch_schemas(upstream, params.get("_meta") or {}, name, capacity)
    schema = upstream.tool_schemas.get(name)
    if schema is not None:
        rejection = validate_mcp_param_headers(schema, arguments, Headers(scope=exchange.scope))
        if rejection is not None:
            raise HeaderMismatchError(rejection.message)


async def _fetch_schemas(upstream: Upstream, meta: dict[str, Any], name: str, capacity: int) -> None:
    envelope = {key: value for key, value in meta.items() if key.startswith(ENVELOPE_PREFIX)}
    cursor: object = None
    for _ in range(_SCHEMA_PAGES):
        params: dict[str, Any] = {"_meta": envelope} | ({"cursor": cursor} if cursor else {})
        message = {"jsonrpc": "2.0", "id": 0, "method": "tools/list", "params": params}
        response = await internal_request(upstream, message, capacity=capacity)
        cursor = (response.get("result") or {}).get("nextCursor")
        if name in upstream.tool_schemas or not isinstance(cursor, str):
            return


def gateway_error_of(item: Outgoing) -> GatewayError:
    """Portico's own error delivered as a final message (``item.http_status`` set) as an exception."""
    error = item.message.get("error") or {}
    failure = GatewayError(str(error.get("message", "upstream failure")), data=error.get("data"))
    failure.code = error.get("code", failure.code)
    failure.http_status = item.http_status or 502
    return failure
