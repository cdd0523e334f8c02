"""Installing the OpenTelemetry SDK from ``telemetry``: provider, sampler, OTLP/HTTP exporter.

One :class:`opentelemetry.sdk.trace.TracerProvider` per running Portico (not the global one, so
that tests and several apps in one process do not share it); spans go through a
``BatchSpanProcessor`` to an ``OTLPSpanExporter`` (HTTP/protobuf, OTLP 1.x). Sampling is
parent-based: a client's sampled flag is followed, new traces are kept at ``sampling_ratio``.
"""

from __future__ import annotations

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

from app.config.telemetry import TelemetryConfig
from app.observe import tracing

__all__ = ["Tracing", "flush", "install"]

_installed: list[Tracing] = []


class Tracing:
    """The installed SDK: :meth:`flush` exports what is buffered, :meth:`close` flushes and stops."""

    def __init__(self, provider: TracerProvider | None) -> None:
        self.provider = provider

    def flush(self, timeout_millis: int = 5_000) -> bool:
        return self.provider.force_flush(timeout_millis) if self.provider is not None else True

    def close(self) -> None:
        if self.provider is not None:
            tracing.switch(None)
            self.provider.shutdown()
            self.provider = None


def install(config: TelemetryConfig, version: str = "") -> Tracing:
    """Turn tracing on as ``config`` says (or off: no provider, :data:`tracing.ON` False)."""
    for previous in _installed:
        previous.close()
    _installed.clear()
    if not config.on or config.endpoint is None:
        tracing.switch(None)
        return Tracing(None)
    resource = Resource.create({"service.name": config.service_name, "service.version": version})
    provider = TracerProvider(resource=resource, sampler=ParentBased(TraceIdRatioBased(config.sampling_ratio)))
    exporter = OTLPSpanExporter(
        endpoint=config.endpoint,
        headers={name: value.get_secret_value() for name, value in config.headers.items()},
        timeout=config.timeout_seconds,
    )
    provider.add_span_processor(BatchSpanProcessor(exporter))
    tracing.switch(provider.get_tracer("portico", version))
    installed = Tracing(provider)
    _installed.append(installed)
    return installed


def flush(timeout_millis: int = 5_000) -> bool:
    """Export every ended span now (tests; shutdown flushes by itself)."""
    return all(installed.flush(timeout_millis) for installed in _installed)
