"""Rate limits and quotas on the MCP plane (docs/limits.md, ADR 0021): :mod:`proxy.limits.guard`
(:class:`~proxy.limits.guard.LimitGuard`, a Backend wrapper) and :mod:`proxy.limits.errors` (-32014)."""
