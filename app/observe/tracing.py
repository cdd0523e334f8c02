"""OpenTelemetry traces: one switch read at every call site, the spans' helpers, W3C trace context.

Off (the default) nothing here runs per call: call sites test the module-level :data:`ON` and do
no span, context or attribute work when it is False (measured in bench/results/2026-12-04-tracing.md).
On, :func:`app.observe.tracing_setup.install` sets :data:`ON` and the tracer of the running
Portico. Attribute names follow the OpenTelemetry semantic conventions for MCP
(open-telemetry/semantic-conventions-genai v0.1.0, ``docs/gen-ai/mcp.md``; docs/observability.md
§Traces lists every span). Trace context is W3C Trace Context (``traceparent``/``tracestate``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Final

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

from app.observe.request_id import current_request_id

__all__ = [
    "ON",
    "SpanKind",
    "context_from_headers",
    "current_span",
    "fail",
    "inject",
    "mcp_attributes_of_current",
    "span",
    "start_client_span",
    "switch",
]

ON: bool = False
"""True while spans are created and exported; read at call sites before any tracing work."""

_PROPAGATOR: Final = TraceContextTextMapPropagator()
_tracer: trace.Tracer = trace.NoOpTracer()
_REPEATED: Final = frozenset(
    {"mcp.method.name", "gen_ai.tool.name", "gen_ai.prompt.name", "gen_ai.operation.name", "jsonrpc.request.id"}
)


def switch(tracer: trace.Tracer | None) -> None:
    """Turn tracing on with ``tracer``, or off with None (:mod:`app.observe.tracing_setup` only)."""
    global ON, _tracer
    _tracer = tracer if tracer is not None else trace.NoOpTracer()
    ON = tracer is not None


def context_from_headers(headers: Iterable[tuple[str, str]]) -> Context | None:
    """The client's W3C trace context (``traceparent``, ``tracestate``; lower-case names), if any."""
    carrier = {name: value for name, value in headers if name in ("traceparent", "tracestate")}
    return _PROPAGATOR.extract(carrier) if carrier else None


@contextmanager
def span(
    name: str,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Mapping[str, AttributeValue] | None = None,
    context: Context | None = None,
) -> Iterator[Span]:
    """A span current for the block; an exception escaping it sets ERROR and ``error.type``.

    ``context`` is the parent (the client's extracted trace context for a SERVER span); None: the
    current span. ``portico.request_id`` is added when a request ID is known.
    """
    with _tracer.start_as_current_span(
        name, context=context, kind=kind, attributes=attributes, record_exception=False, set_status_on_exception=False
    ) as current:
        if (request_id := current_request_id()) is not None:
            current.set_attribute("portico.request_id", request_id)
        try:
            yield current
        except BaseException as error:
            fail(current, type(error).__qualname__, None)
            raise


def current_span() -> Span:
    """The span current in this task (a non-recording one when none)."""
    return trace.get_current_span()


def fail(target: Span, error_type: str, description: str | None) -> None:
    """Mark ``target`` failed: status ERROR and ``error.type`` (a low-cardinality code, never a secret)."""
    target.set_attribute("error.type", error_type)
    target.set_status(Status(StatusCode.ERROR, description))


def inject(carrier: MutableMapping[str, str], parent: Span | None = None) -> None:
    """Write ``parent``'s (default: the current span's) ``traceparent`` and ``tracestate`` into
    ``carrier``, replacing what the client sent."""
    carrier.pop("tracestate", None)
    _PROPAGATOR.inject(carrier, context=trace.set_span_in_context(parent) if parent is not None else None)


def start_client_span(name: str, attributes: dict[str, AttributeValue]) -> Span:
    """A CLIENT span, child of the current span, that the caller ends (it outlives this frame)."""
    if (request_id := current_request_id()) is not None:
        attributes["portico.request_id"] = request_id
    return _tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes, record_exception=False)


def mcp_attributes_of_current() -> tuple[str | None, dict[str, AttributeValue]]:
    """The current span's MCP request attributes (method, target, request id) to repeat on a child."""
    current = trace.get_current_span()
    attributes = getattr(current, "attributes", None) or {}
    copied = {key: value for key, value in attributes.items() if key in _REPEATED}
    method = copied.get("mcp.method.name")
    target = copied.get("gen_ai.tool.name") or copied.get("gen_ai.prompt.name")
    name = None if method is None else f"{method} {target}" if target is not None else str(method)
    return name, copied
