"""Turns MCP request records and authorization events into counters (an McpObserver and an AuthObserver).

Per record: a few dictionary lookups and increments (prometheus-client children are cached per label
set). Labels are bounded (:mod:`proxy.metrics.labels`): a server name that is not configured counts
as ``other``; emails, subjects and targets are never labels.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from prometheus_client import Counter, Histogram

from app.observe.records import AuthEvent, McpRequestRecord
from proxy.metrics.families import Families
from proxy.metrics.labels import OTHER, CappedLabel, grant_type_label, method_label
from proxy.wire.errors import UPSTREAM_AUTH_FAILED, UPSTREAM_FAILED, UPSTREAM_TIMEOUT, UPSTREAM_UNAVAILABLE

UPSTREAM_DOWN: Final = frozenset({UPSTREAM_UNAVAILABLE, UPSTREAM_FAILED, UPSTREAM_TIMEOUT, UPSTREAM_AUTH_FAILED})
_MAX_CACHED: Final = 4096
SIGN_IN_KINDS: Final = frozenset({"sign_in", "sign_in_refused"})
TOKEN_KINDS: Final = frozenset({"token_issued", "token_request_failed"})


CounterChild = Counter
HistogramChild = Histogram


_Children = tuple[CounterChild, HistogramChild, str, HistogramChild]
"""Per record facts: requests counter, request duration, the server label, upstream-hop duration."""


class MetricsObserver:
    def __init__(self, families: Families, servers: Iterable[str], providers: Iterable[str] = ()) -> None:
        self._families = families
        self._servers = frozenset(servers)
        self._providers = CappedLabel(known=frozenset(providers))
        self._up: dict[str, int] = {}
        self._children: dict[tuple[str, ...], _Children] = {}

    def _children_for(self, key: tuple[str, str, str, str, str]) -> _Children:
        """The request counter's, duration and upstream-hop histograms' children for a record's facts (cached: the
        label values are bounded, so is the cache — but unknown server/method names are keyed as seen,
        so the cache is capped and falls back to resolving each time)."""
        server_name, method_name, era, transport, outcome = key
        server = server_name if server_name in self._servers else OTHER
        method = method_label(method_name)
        children = (
            self._families.mcp_requests.labels(server, method, era, transport, outcome),
            self._families.mcp_duration.labels(server, method),
            server,
            self._families.upstream_duration.labels(server),
        )
        if len(self._children) < _MAX_CACHED:
            self._children[key] = children
        return children

    def mcp_request(self, record: McpRequestRecord) -> None:
        families = self._families
        key = (record.server, record.method, record.era, record.transport, record.outcome)
        children = self._children.get(key)
        if children is None:
            children = self._children_for(key)
        server = children[2]
        children[0].inc()
        children[1].observe(record.duration)
        if record.upstream_duration is not None:
            children[3].observe(record.upstream_duration)
        if record.policy == "denied":
            families.policy_denials.labels(server).inc()
        if server == OTHER or not record.method:
            return
        up = 0 if record.error_code in UPSTREAM_DOWN else 1 if record.outcome == "ok" else None
        if up is not None and self._up.get(server) != up:  # set on a change only: no per-call label lookup
            self._up[server] = up
            families.upstream_up.labels(server).set(up)

    def auth_event(self, event: AuthEvent) -> None:
        """``sign_in`` / ``sign_in_refused`` (``details.provider``) and any event with ``details.grant_type``
        (``token_issued``, refusals at the token endpoint) are counted; the rest is not a metric."""
        details = event.details
        if event.kind in SIGN_IN_KINDS:
            outcome = "refused" if event.kind == "sign_in_refused" else event.outcome
            self._families.sign_ins.labels(self._providers(details.get("provider")), outcome).inc()
        elif event.kind in TOKEN_KINDS or "grant_type" in details:
            self._families.token_requests.labels(grant_type_label(details.get("grant_type")), event.outcome).inc()
