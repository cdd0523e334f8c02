"""Gauges and totals read from the gateway's own registries at scrape time (no per-call cost).

Called on the metrics listener's thread: it only takes ``len`` / shallow copies of the registries.
Under several worker processes each process reports its own (ADR 0017).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from app.audit.trail import dropped_total as audit_dropped_total
from app.db_executor import executor_for
from app.limits.counts import LIMITED
from proxy.gateway import Gateway
from proxy.inbound.open_exchanges import OpenExchanges
from proxy.pinning.changes import PINNING_CHANGES
from proxy.wire.outbox import DROPPED_NOTIFICATIONS


class GatewayCollector(Collector):
    def __init__(self, gateway: Gateway, exchanges: OpenExchanges, servers: Iterable[str], engine: Engine) -> None:
        self._gateway = gateway
        self._engine = engine
        self._exchanges = exchanges
        self._servers = tuple(servers)

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        gateway = self._gateway
        sessions = GaugeMetricFamily(
            "portico_mcp_sessions", "Open handshake-era MCP sessions (Mcp-Session-Id), by server.", labels=["server"]
        )
        by_server = Counter(session.server for session in gateway.sessions.all())
        processes = GaugeMetricFamily(
            "portico_stdio_processes", "Running stdio upstream processes, by server.", labels=["server"]
        )
        running = Counter(upstream.key.server for upstream in gateway.pool.live())
        dropped = CounterMetricFamily(
            "portico_dropped_notifications",
            "Server-to-client notifications dropped for slow client streams, by server.",
            labels=["server"],
        )
        dropped_by_server = DROPPED_NOTIFICATIONS.by_server()
        for server in self._servers:
            sessions.add_metric([server], by_server.get(server, 0))
            processes.add_metric([server], running.get(server, 0))
            dropped.add_metric([server], dropped_by_server.get(server, 0))
        yield sessions
        yield processes
        yield dropped
        streams = GaugeMetricFamily(
            "portico_open_streams", "Open client SSE streams (GET /<server>/mcp and legacy /<server>/sse)."
        )
        streams.add_metric([], self._exchanges.streams())
        yield streams
        changes = CounterMetricFamily(
            "portico_pinning_changes",
            "Tool definitions recorded by pinning as changed or new (not yet approved), by server and mode.",
            labels=["server", "mode"],
        )
        for (server, mode), count in PINNING_CHANGES.by_server_and_mode().items():
            changes.add_metric([server, mode], count)
        yield changes
        database = GaugeMetricFamily("portico_database_up", "1 when the database answers, 0 during an outage.")
        database.add_metric([], 0 if executor_for(self._engine).outage.is_down else 1)
        yield database
        audit = CounterMetricFamily(
            "portico_audit_dropped", "Audit records dropped because the audit queue was full (audit.queue_size)."
        )
        audit.add_metric([], audit_dropped_total())
        yield audit
        yield from _rate_limits()


def _rate_limits() -> Iterator[CounterMetricFamily]:
    """``portico_rate_limited_total{limit, scope}`` and ``portico_rate_limit_fallbacks_total`` (docs/limits.md)."""
    limited = CounterMetricFamily(
        "portico_rate_limited",
        "Requests refused by a rate limit or quota, by rule name and scope (mcp, endpoint).",
        labels=["limit", "scope"],
    )
    for (rule, scope), count in sorted(LIMITED.by_rule_and_scope().items()):
        limited.add_metric([rule, scope], count)
    yield limited
    fallbacks = CounterMetricFamily(
        "portico_rate_limit_fallbacks",
        "Limit checks answered by the in-process fallback because Redis was unreachable.",
    )
    fallbacks.add_metric([], LIMITED.fallbacks)
    yield fallbacks
