"""Turns MCP request records and authorization events into counters (an McpObserver and an AuthObserver).

Per record: a few dictionary lookups and increments (prometheus-client children are cached per label
set). Labels are bounded (:mod:`proxy.metrics.labels`): a server name that is not configured counts
as ``other``; emails, subjects and targets are never labels.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from app.observe.records import AuthEvent, McpRequestRecord
from proxy.metrics.families import Families
from proxy.metrics.labels import OTHER, CappedLabel, grant_type_label, method_label
from proxy.wire.errors import UPSTREAM_AUTH_FAILED, UPSTREAM_FAILED, UPSTREAM_TIMEOUT, UPSTREAM_UNAVAILABLE

UPSTREAM_DOWN: Final = frozenset({UPSTREAM_UNAVAILABLE, UPSTREAM_FAILED, UPSTREAM_TIMEOUT, UPSTREAM_AUTH_FAILED})
SIGN_IN_KINDS: Final = frozenset({"sign_in", "sign_in_refused"})
TOKEN_KINDS: Final = frozenset({"token_issued", "token_refused"})


class MetricsObserver:
    def __init__(self, families: Families, servers: Iterable[str], providers: Iterable[str] = ()) -> None:
        self._families = families
        self._servers = frozenset(servers)
        self._providers = CappedLabel(known=frozenset(providers))

    def mcp_request(self, record: McpRequestRecord) -> None:
        families = self._families
        server = record.server if record.server in self._servers else OTHER
        method = method_label(record.method)
        families.mcp_requests.labels(server, method, record.era, record.transport, record.outcome).inc()
        families.mcp_duration.labels(server, method).observe(record.duration)
        if record.upstream_duration is not None:
            families.upstream_duration.labels(server).observe(record.upstream_duration)
        if record.policy == "denied":
            families.policy_denials.labels(server).inc()
        if server is OTHER or not record.method:
            return
        if record.error_code in UPSTREAM_DOWN:
            families.upstream_up.labels(server).set(0)
        elif record.outcome == "ok":
            families.upstream_up.labels(server).set(1)

    def auth_event(self, event: AuthEvent) -> None:
        """``sign_in`` / ``sign_in_refused`` (``details.provider``) and any event with ``details.grant_type``
        (``token_issued``, refusals at the token endpoint) are counted; the rest is not a metric."""
        details = event.details
        if event.kind in SIGN_IN_KINDS:
            outcome = "refused" if event.kind == "sign_in_refused" else event.outcome
            self._families.sign_ins.labels(self._providers(details.get("provider")), outcome).inc()
        elif event.kind in TOKEN_KINDS or "grant_type" in details:
            self._families.token_requests.labels(grant_type_label(details.get("grant_type")), event.outcome).inc()
