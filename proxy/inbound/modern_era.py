"""The client side of Streamable HTTP 2026-07-28 (stateless: POST only, one request per exchange).

Checks, in the SDK's order (``mcp.server._streamable_http_modern``) and with the spec's status
table (2026-07-28 basic/transports/streamable-http.mdx §Server Validation):

1. not POST → 405 ``Allow: POST`` (no sessions, no GET stream, no DELETE; ``Mcp-Session-Id``
   and ``Last-Event-ID`` are ignored);
2. ``Accept`` must allow JSON and SSE → else 406; ``Content-Type`` JSON → else 415;
3. body not JSON → -32700 (400); an id-less object is a notification → 202;
   anything but one request (a batch, a response) → -32600 (400);
4. a routing header given twice → -32020 (400);
5. the ladder: ``_meta`` envelope present (-32602), ``MCP-Protocol-Version`` / ``Mcp-Method`` /
   ``Mcp-Name`` equal to the body (-32020), a served version (-32022 with ``supported``) → 400;
6. ``Mcp-Param-*`` against the tool's ``x-mcp-header`` schema (-32020) — by the upstream for
   Streamable HTTP servers (headers are forwarded), by Portico for stdio servers.

Unknown methods are the upstream's to answer (-32601 → 404 via the same table), except
``initialize``, which the stateless era removed: Portico answers it -32601 (404) itself, as a
2026-07-28 server does, whatever the upstream's era.
"""

from __future__ import annotations

from mcp.shared.inbound import (
    ERROR_CODE_HTTP_STATUS,
    InboundLadderRejection,
    classify_inbound_request,
    find_duplicated_routing_header,
)

from proxy.backends.base import Backend
from proxy.wire.asgi import accepts, is_json_content, read_body, send_empty
from proxy.wire.errors import (
    GatewayError,
    HeaderMismatchError,
    InvalidRequestError,
    MethodNotAllowedError,
    NotAcceptableError,
    ParseError,
    UnsupportedMediaTypeError,
)
from proxy.wire.exchange import Exchange
from proxy.wire.jsonrpc import (
    METHOD_NOT_FOUND,
    InvalidMessageError,
    JsonRpcNotification,
    JsonRpcRequest,
    decode_json,
    parse_message,
)

_SINGLE_MESSAGE = "Body must be a single JSON-RPC request or notification object"


async def serve_modern_era(exchange: Exchange, backend: Backend) -> None:
    if exchange.method != "POST":
        raise MethodNotAllowedError("Method Not Allowed", headers={"allow": "POST"})
    has_json, has_sse = accepts(exchange.headers)
    if not (has_json and has_sse):
        raise NotAcceptableError("Not Acceptable: Client must accept both application/json and text/event-stream")
    if not is_json_content(exchange.headers):
        raise UnsupportedMediaTypeError("Unsupported Media Type: Content-Type must be application/json")
    body = await read_body(exchange.receive)
    try:
        decoded = decode_json(body)
    except ValueError as error:
        raise ParseError("Parse error") from error
    message = _single_message(decoded)
    if isinstance(message, JsonRpcNotification):
        await backend.modern_notify(exchange, message, body)
        await send_empty(exchange.send, 202)
        return
    exchange.request_id = message.id
    _validate_routing_headers(exchange, message)
    if message.method == "initialize":
        raise _method_not_found(message.method)
    await backend.modern_post(exchange, message, body)


def _single_message(decoded: object) -> JsonRpcRequest | JsonRpcNotification:
    try:
        message = parse_message(decoded)
    except InvalidMessageError as error:
        raise InvalidRequestError(_SINGLE_MESSAGE) from error
    if not isinstance(message, JsonRpcRequest | JsonRpcNotification):
        raise InvalidRequestError(_SINGLE_MESSAGE)
    return message


def _validate_routing_headers(exchange: Exchange, request: JsonRpcRequest) -> None:
    """Raises: GatewayError with the ladder's code and the table's status (carrying the request id)."""
    duplicated = find_duplicated_routing_header(exchange.headers)
    if duplicated is not None:
        raise HeaderMismatchError(f"{duplicated} header appears more than once")
    verdict = classify_inbound_request(request.raw, headers=dict(exchange.headers))
    if isinstance(verdict, InboundLadderRejection):
        raise _rejection(verdict)


def _method_not_found(method: str) -> GatewayError:
    error = GatewayError("Method not found", data=method)
    error.code = METHOD_NOT_FOUND
    error.http_status = ERROR_CODE_HTTP_STATUS.get(METHOD_NOT_FOUND, 404)
    return error


def _rejection(verdict: InboundLadderRejection) -> GatewayError:
    error = GatewayError(verdict.message, data=verdict.data)
    error.code = verdict.code
    error.http_status = ERROR_CODE_HTTP_STATUS.get(verdict.code, 400)
    return error
