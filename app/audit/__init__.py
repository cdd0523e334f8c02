"""The audit trail: one row per MCP request and per authorization event (docs/observability.md §Audit).

:class:`app.audit.trail.AuditTrail` observes the :class:`app.observe.bus.EventBus`, queues records
in memory (bounded) and drains them in batches to the ``audit_events`` table and/or a JSON-lines
sink; :mod:`app.audit.query` reads them back for ``portico audit``. ADR 0018.
"""
