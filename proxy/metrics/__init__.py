"""Prometheus metrics: families, the observer of MCP records and auth events, the gateway collector, the listener.

docs/observability.md §Metrics; docs/adr/0017-metrics-and-request-ids.md.
"""
