"""The client side of Streamable HTTP 2025-03-26 … 2025-11-25 (the initialize-handshake era).

Validation, in the SDK's order and with its statuses (2025-11-25 basic/transports.mdx
§Streamable HTTP; SDK ``StreamableHTTPServerTransport``):

- POST: ``Accept`` must allow JSON and SSE (406), ``Content-Type`` must be JSON (415), the body
  must be JSON (-32700, 400) holding one message — or a batch where the revision allows one,
  i.e. 2025-03-26 (else -32600, 400); ``initialize`` opens a session and must come alone; every
  other POST needs the session's ``Mcp-Session-Id`` (400 when missing, 404 when unknown or not
  this user's). Notifications and responses only → 202.
- GET: ``Accept`` must allow SSE (406); opens the session's server→client stream.
- DELETE: ends the session (200).
- anything else: 405 with ``Allow: GET, POST, DELETE``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

import anyio
from starlette.types import Message

from app.observe import tracing
from proxy.backends.base import Backend
from proxy.inbound.spans import annotate
from proxy.wire.asgi import accepts, is_json_content, read_body, send_empty
from proxy.wire.errors import (
    InvalidRequestError,
    MethodNotAllowedError,
    NotAcceptableError,
    ParseError,
    UnsupportedMediaTypeError,
)
from proxy.wire.exchange import Exchange
from proxy.wire.jsonrpc import (
    InvalidMessageError,
    JsonRpcMessage,
    JsonRpcNotification,
    JsonRpcRequest,
    RequestId,
    decode_json,
    encode,
    parse_message,
)
from proxy.wire.mcp_sessions import McpSession, McpSessionRegistry
from proxy.wire.protocol import PROTOCOL_VERSION_HEADER, SESSION_ID_HEADER, allows_batches


async def serve_handshake_era(exchange: Exchange, backend: Backend, sessions: McpSessionRegistry) -> None:
    if exchange.method == "POST":
        await _post(exchange, backend, sessions)
    elif exchange.method == "GET":
        await _get(exchange, backend, sessions)
    elif exchange.method == "DELETE":
        await _delete(exchange, backend, sessions)
    else:
        raise MethodNotAllowedError("Method Not Allowed", headers={"allow": "GET, POST, DELETE"})


async def _post(exchange: Exchange, backend: Backend, sessions: McpSessionRegistry) -> None:
    has_json, has_sse = accepts(exchange.headers)
    if not (has_json and has_sse):
        raise NotAcceptableError("Not Acceptable: Client must accept both application/json and text/event-stream")
    if not is_json_content(exchange.headers):
        raise UnsupportedMediaTypeError("Unsupported Media Type: Content-Type must be application/json")
    body = await read_body(exchange.receive)
    decoded = _decode(body)
    if _is_initialize(decoded):
        messages = [parse_message(decoded)]
        session = None
    else:
        session = _session(exchange, sessions)
        messages = _messages(decoded, exchange.header(PROTOCOL_VERSION_HEADER) or session.protocol_version)
    if tracing.ON:
        _annotate(exchange, messages, session)
    exchange.messages = [m.raw for m in messages]
    requests = [m for m in messages if isinstance(m, JsonRpcRequest)]
    if len(requests) == 1:
        exchange.request_id = requests[0].id
        if session is not None:
            exchange.cancel_upstream = _canceller(exchange, backend, session, requests[0].id)
    with _open(session):
        await backend.handshake_post(exchange, session, messages, body)


async def _get(exchange: Exchange, backend: Backend, sessions: McpSessionRegistry) -> None:
    if not accepts(exchange.headers)[1]:
        raise NotAcceptableError("Not Acceptable: Client must accept text/event-stream")
    session = _session(exchange, sessions)
    with _open(session):
        await backend.handshake_get(exchange, session)


async def _delete(exchange: Exchange, backend: Backend, sessions: McpSessionRegistry) -> None:
    session = _session(exchange, sessions)
    sessions.remove(session.mcp_session_id)
    await backend.handshake_delete(session)
    await send_empty(exchange.send, 200)


def _canceller(
    exchange: Exchange, backend: Backend, session: McpSession, request_id: RequestId
) -> Callable[[], Awaitable[None]]:
    """What the client would POST to cancel (``notifications/cancelled``, 2025-11-25 basic/utilities/cancellation)."""

    async def cancel_upstream() -> None:
        params = {"requestId": request_id, "reason": "server shutting down"}
        message = JsonRpcNotification({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": params})
        body = encode(message.raw)
        quiet = Exchange(exchange.scope, _never_disconnects, _discard, exchange.headers, exchange.server)
        quiet.subject, quiet.claims = exchange.subject, exchange.claims
        await backend.handshake_post(quiet, session, [message], body)

    return cancel_upstream


async def _never_disconnects() -> Message:
    await anyio.sleep_forever()
    raise AssertionError("unreachable")


async def _discard(_message: Message) -> None:
    """The backend's 202 for the cancellation goes nowhere: the client's exchange is being ended."""


def _annotate(exchange: Exchange, messages: list[JsonRpcMessage], session: McpSession | None) -> None:
    if session is None:
        first = messages[0]
        requested = first.params.get("protocolVersion") if isinstance(first, JsonRpcRequest) and first.params else None
        annotate(messages, None, requested if isinstance(requested, str) else None)
    else:
        annotate(messages, session.mcp_session_id, exchange.header(PROTOCOL_VERSION_HEADER) or session.protocol_version)


def _decode(body: bytes) -> object:
    try:
        return decode_json(body)
    except ValueError as error:
        raise ParseError("Parse error: body is not valid JSON") from error


def _is_initialize(decoded: object) -> bool:
    if not isinstance(decoded, dict) or decoded.get("method") != "initialize":
        return False
    try:
        return isinstance(parse_message(decoded), JsonRpcRequest)
    except InvalidMessageError as error:
        raise InvalidRequestError(f"Invalid Request: {error}") from error


def _messages(decoded: object, version: str) -> list[JsonRpcMessage]:
    """One message, or a batch when ``version`` allows it (JSON-RPC 2.0 §6; removed in 2025-06-18)."""
    items = decoded if isinstance(decoded, list) else [decoded]
    if isinstance(decoded, list) and not (decoded and allows_batches(version)):
        raise InvalidRequestError(f"Invalid Request: JSON-RPC batches are not allowed at protocol version {version}")
    try:
        messages = [parse_message(item) for item in items]
    except InvalidMessageError as error:
        raise InvalidRequestError(f"Invalid Request: {error}") from error
    if any(isinstance(m, JsonRpcRequest) and m.method == "initialize" for m in messages):
        raise InvalidRequestError("Invalid Request: initialize must not be part of a batch")
    return messages


def _session(exchange: Exchange, sessions: McpSessionRegistry) -> McpSession:
    mcp_session_id = exchange.header(SESSION_ID_HEADER)
    if not mcp_session_id:
        raise InvalidRequestError("Bad Request: Missing session ID")
    return sessions.lookup(mcp_session_id, subject=exchange.subject, server=exchange.server)


@contextmanager
def _open(session: McpSession | None) -> Iterator[None]:
    """Count a request or stream as open on the session, which keeps it from idle expiry."""
    if session is None:
        yield
        return
    session.streams_open += 1
    try:
        yield
    finally:
        session.streams_open -= 1
        session.touch()
