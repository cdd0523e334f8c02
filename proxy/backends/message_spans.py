"""The CLIENT span of a request relayed to a message upstream (stdio, legacy SSE), and its ``_meta``.

Built only while tracing is on. Trace context goes in the request's ``params._meta``
(``traceparent``, ``tracestate``): the MCP specification (2025-11-25) defines no trace context,
the OpenTelemetry MCP conventions (semantic-conventions-genai v0.1.0, ``gen-ai/mcp.md`` §Context
propagation) and the MCP Python SDK (``mcp.shared._otel.inject_trace_context``) put it there.
The client's own ``_meta`` keys are kept; its ``traceparent`` is replaced by Portico's span.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry.trace import Span

from app.observe import tracing

__all__ = ["message_span", "with_trace_context"]


@contextmanager
def message_span(transport: str) -> Iterator[Span]:
    """A CLIENT span current for the relay of the current request to the upstream, until its answer."""
    name, attributes = tracing.mcp_attributes_of_current()
    attributes["network.transport"] = transport
    with tracing.span(name or "upstream", tracing.SpanKind.CLIENT, attributes) as span:
        yield span


def with_trace_context(message: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``message`` whose ``params._meta`` carries the current span's trace context."""
    params = message.get("params")
    params = dict(params) if isinstance(params, dict) else {}
    meta = params.get("_meta")
    carrier: dict[str, Any] = dict(meta) if isinstance(meta, dict) else {}
    tracing.inject(carrier)
    params["_meta"] = carrier
    return {**message, "params": params}
