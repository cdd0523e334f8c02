"""The metric families Portico exports (names, types, labels: docs/observability.md §Metrics).

Counters and histograms are prometheus-client objects on a :class:`~prometheus_client.CollectorRegistry`
of their own (one per app, so tests may build several). With ``PROMETHEUS_MULTIPROC_DIR`` set
(several worker processes), prometheus-client keeps their values in per-process files and the
listener aggregates them (ADR 0017); nothing here changes.
"""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
"""Seconds: from a warm proxied call (a few ms) to a long tool call."""


class Families:
    """Every push-style family (the gauges read at scrape time live in :mod:`proxy.metrics.collector`)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.mcp_requests = Counter(
            "portico_mcp_requests",
            "MCP JSON-RPC messages from clients, by server, method, client era, transport and outcome.",
            ["server", "method", "era", "transport", "outcome"],
            registry=registry,
        )
        self.mcp_duration = Histogram(
            "portico_mcp_request_duration_seconds",
            "Time from a client's HTTP request to the end of Portico's answer, by server and method.",
            ["server", "method"],
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.upstream_duration = Histogram(
            "portico_upstream_request_duration_seconds",
            "Time the upstream server took to answer a request (when the producer measured it), by server.",
            ["server"],
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.policy_denials = Counter(
            "portico_policy_denials",
            "MCP requests refused by the access policy (-32012), by server.",
            ["server"],
            registry=registry,
        )
        self.token_requests = Counter(
            "portico_token_requests",
            "Token endpoint requests by grant type and outcome (ok / refused).",
            ["grant_type", "outcome"],
            registry=registry,
        )
        self.sign_ins = Counter(
            "portico_sign_ins",
            "Sign-ins by provider and outcome (ok / refused).",
            ["provider", "outcome"],
            registry=registry,
        )
        self.upstream_up = Gauge(
            "portico_upstream_up",
            "1 when the last request to the server was answered by it, 0 when it failed with an upstream "
            "error (-32003 unavailable, -32004 failed, -32005 timeout, -32009 auth failed).",
            ["server"],
            registry=registry,
            multiprocess_mode="mostrecent",
        )
        build = Gauge(
            "portico_build_info",
            "Always 1; the labels name the build.",
            ["version", "python"],
            registry=registry,
            multiprocess_mode="max",
        )
        build.labels(portico_version(), platform.python_version()).set(1)


def portico_version() -> str:
    try:
        return version("portico")
    except PackageNotFoundError:
        return "unknown"
