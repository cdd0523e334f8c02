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

Unknown methods are the upstream's to answer (-32601 → 404 via the same table), except the
methods 2026-07-28 removed (``initialize``, ``ping``, ``logging/setLevel``,
``resources/subscribe``, ``resources/unsubscribe``: in the SDK's 2025-11-25 method map and not
in its 2026-07-28 one): Portico answers those -32601 (404) itself, as a 2026-07-28 server does,
whatever the upstream's era — a handshake-era upstream behind the bridge would answer them.
A retry's ``inputResponses`` must be an object of objects and its ``requestState`` a string
(2026-07-28 ``InputResponseRequestParams``), else -32602 (400) before anything goes upstream.
"""

from __future__ import annotations

from typing import Final

from mcp.shared.inbound import (
    ERROR_CODE_HTTP_STATUS,
    InboundLadderRejection,
    classify_inbound_request,
    find_duplicated_routing_header,
)
from mcp_types.methods import CLIENT_REQUESTS

from app.observe import tracing
from proxy.backends.base import Backend
from proxy.inbound.spans import annotate
from proxy.wire.asgi import accepts, is_json_content, read_body, send_empty
from proxy.wire.errors import (
    GatewayError,
    HeaderMismatchError,
    InvalidParamsError,
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
from proxy.wire.protocol import PROTOCOL_VERSION_HEADER

_SINGLE_MESSAGE = "Body must be a single JSON-RPC request or notification object"
REMOVED_METHODS: Final = frozenset(m for m, v in CLIENT_REQUESTS if v == "2025-11-25") - frozenset(
    m for m, v in CLIENT_REQUESTS if v == "2026-07-28"
)
"""Request methods of the handshake era that 2026-07-28 removed (answered -32601 by Portico)."""


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
    if tracing.ON:
        annotate([message], None, exchange.header(PROTOCOL_VERSION_HEADER))
    exchange.messages = [message.raw]
    if isinstance(message, JsonRpcNotification):
        await backend.modern_notify(exchange, message, body)
        await send_empty(exchange.send, 202)
        return
    exchange.request_id = message.id
    _validate_routing_headers(exchange, message)
    if message.method in REMOVED_METHODS:
        raise _method_not_found(message.method)
    _validate_input_response_params(message)
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


def _validate_input_response_params(request: JsonRpcRequest) -> None:
    """``inputResponses``: an object whose values are objects (a result per input request);
    ``requestState``: a string (2026-07-28 schema, ``InputResponseRequestParams``).

    Raises:
        InvalidParamsError: -32602 (400), naming the parameter.
    """
    params = request.params or {}
    responses = params.get("inputResponses")
    if "inputResponses" in params and (
        not isinstance(responses, dict) or not all(isinstance(value, dict) for value in responses.values())
    ):
        raise InvalidParamsError("Invalid params: inputResponses must be an object mapping each key to a result object")
    if "requestState" in params and not isinstance(params["requestState"], str):
        raise InvalidParamsError("Invalid params: requestState must be a string")


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
