"""Rate limits and quotas keyed on identity (issue #21, docs/limits.md, ADR 0021).

- :mod:`app.limits.buckets`: what one check asks (:class:`Bucket`, :class:`Counter`) and its answer;
- :mod:`app.limits.memory_store`: the in-process store (the fallback, and the store without Redis);
- :mod:`app.limits.redis_store` and ``take.lua``: the Redis store (one atomic script, shared across
  instances), with a circuit breaker that falls back to the in-process store;
- :mod:`app.limits.lease`: surplus tokens a Redis call granted, kept per process (``limits.lease``);
- :mod:`app.limits.rules`: the configured rules compiled per server and per endpoint, and defaults;
- :mod:`app.limits.limiter`: :class:`~app.limits.limiter.Limiter`, what the enforcement points call;
- :mod:`app.limits.endpoints`: the authorization-server endpoints' middleware (429 JSON or page);
- :mod:`app.limits.counts`: the process's totals (metrics); :mod:`app.limits.addresses`: address keys;
- :mod:`app.limits.explain`: ``portico limits explain``'s lines.

The MCP plane's enforcement point is ``proxy/limits/`` (``LimitGuard``, -32014).
"""
