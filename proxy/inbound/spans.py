"""The SERVER span of one client request on an MCP route (only built while tracing is on).

One span per client HTTP request carrying JSON-RPC (a POST of one request, or a 2025-03-26 batch:
then ``mcp.method.name`` is the first request's, ``portico.batch_size`` the count, and each member is
a span event ``mcp.batch.member`` with its own method, id and tool/prompt name), or the
legacy-SSE message POST. Named ``{mcp.method.name} {target}`` (target: the tool or prompt name)
per the OpenTelemetry MCP conventions (semantic-conventions-genai v0.1.0, ``gen-ai/mcp.md``);
parented on the client's W3C ``traceparent``. Never arguments, results, tokens or emails.
Status ERROR when Portico answers a JSON-RPC error (its own, or the upstream's in a JSON body or SSE event)
or an HTTP error status; ``error.type`` is the JSON-RPC code or the HTTP status.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from opentelemetry.trace import Span
from opentelemetry.util.types import AttributeValue
from starlette.types import Message, Scope, Send

from app.observe import tracing
from proxy.wire.asgi import request_headers
from proxy.wire.errors import GatewayError
from proxy.wire.jsonrpc import JsonRpcMessage, JsonRpcNotification, JsonRpcRequest, decode_json

__all__ = ["annotate", "failed", "inbound_span", "traced_send"]

_NAMED_TARGETS: Final = {"tools/call": "gen_ai.tool.name", "prompts/get": "gen_ai.prompt.name"}


@contextmanager
def inbound_span(scope: Scope, transport: str) -> Iterator[Span]:
    """The request's SERVER span, current for the block (renamed by :func:`annotate` once parsed)."""
    headers = request_headers(scope)
    attributes: dict[str, AttributeValue] = {
        "network.transport": transport,
        "network.protocol.name": "http",
        "http.request.method": scope["method"],
        "url.path": scope["path"],
    }
    parent = tracing.context_from_headers(headers)
    with tracing.span(f"{scope['method']} {scope['path']}", tracing.SpanKind.SERVER, attributes, parent) as span:
        yield span


def annotate(messages: list[JsonRpcMessage], session_id: str | None, protocol_version: str | None) -> None:
    """Name the current SERVER span after the request it carries and add the MCP attributes."""
    span = tracing.current_span()
    calls = [m for m in messages if isinstance(m, JsonRpcRequest | JsonRpcNotification)]
    requests = [m for m in calls if isinstance(m, JsonRpcRequest)]
    first = requests[0] if requests else calls[0] if calls else None
    if first is None:
        return
    attributes = _attributes(first)
    span.set_attributes(attributes)
    method = name = first.method
    target = attributes.get(_NAMED_TARGETS.get(method, ""))
    if isinstance(target, str):
        name = f"{method} {target}"
    if method == "tools/call":
        span.set_attribute("gen_ai.operation.name", "execute_tool")
    if session_id is not None:
        span.set_attribute("mcp.session.id", session_id)
    if protocol_version is not None:
        span.set_attribute("mcp.protocol.version", protocol_version)
    if len(messages) > 1:
        span.set_attribute("portico.batch_size", len(messages))
        for member in calls:  # a batch's members are one HTTP request, so one span: an event each
            span.add_event("mcp.batch.member", _attributes(member))
    span.update_name(name)


def _attributes(message: JsonRpcRequest | JsonRpcNotification) -> dict[str, AttributeValue]:
    """``mcp.method.name``, ``jsonrpc.request.id`` (requests) and ``gen_ai.tool.name`` /
    ``gen_ai.prompt.name`` (``tools/call`` / ``prompts/get`` naming one) of one message."""
    attributes: dict[str, AttributeValue] = {"mcp.method.name": message.method}
    if isinstance(message, JsonRpcRequest):
        attributes["jsonrpc.request.id"] = str(message.id)
    target_key = _NAMED_TARGETS.get(message.method)
    target = (message.params or {}).get("name") if target_key is not None else None
    if target_key is not None and isinstance(target, str):
        attributes[target_key] = target
    return attributes


def failed(error: GatewayError) -> None:
    """Portico answered ``error``: the current span is an error with its JSON-RPC code."""
    span = tracing.current_span()
    span.set_attribute("rpc.response.status_code", str(error.code))
    tracing.fail(span, str(error.code), None)


def traced_send(send: Send) -> Send:
    """``send`` that records on the current span the response status and a JSON-RPC error answer —
    in a JSON body, or in an SSE ``data:`` line (Portico's writers send whole events per chunk)."""
    span = tracing.current_span()
    media = b""
    held: list[bytes] = []

    async def observed(message: Message) -> None:
        nonlocal media
        if message["type"] == "http.response.start":
            status = int(message["status"])
            span.set_attribute("http.response.status_code", status)
            media = next((v for k, v in message["headers"] if k == b"content-type"), b"")
            if status >= 400:
                tracing.fail(span, str(status), None)
        elif message["type"] == "http.response.body":
            body: bytes = message.get("body", b"")
            if media.startswith(b"application/json"):
                held.append(body)  # bounded by gateway.max_message_bytes, like the relay itself
                if not message.get("more_body", False):
                    _record_jsonrpc_error(span, b"".join(held))
            elif media.startswith(b"text/event-stream") and b'"error"' in body:
                for line in body.split(b"\n"):
                    if line.startswith(b"data:"):
                        _record_jsonrpc_error(span, line[5:])
        await send(message)

    return observed


def _record_jsonrpc_error(span: Span, body: bytes) -> None:
    if b'"error"' not in body:
        return
    try:
        decoded = decode_json(body)
    except ValueError:
        return
    error = decoded.get("error") if isinstance(decoded, dict) and "id" in decoded else None
    code = error.get("code") if isinstance(error, dict) else None
    if isinstance(code, int):
        span.set_attribute("rpc.response.status_code", str(code))
        tracing.fail(span, str(code), None)
