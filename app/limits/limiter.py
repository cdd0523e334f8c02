""":class:`Limiter`: the compiled rules, a store and the clock — what the enforcement points call.

The MCP plane (proxy/limits/) asks :meth:`Limiter.for_server` once per server at startup and calls
:meth:`Limiter.take` only when a request matches a rule; the authorization server's middleware
(:mod:`app.limits.endpoints`) calls :meth:`Limiter.check_endpoint`. docs/limits.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from app.clock import Clock
from app.config.rate_limits import Endpoint
from app.config.schema import PorticoConfig
from app.limits.buckets import Item, Refusal
from app.limits.memory_store import MemoryStore
from app.limits.rules import CompiledLimits, Identity, ServerLimits


class LimitStore(Protocol):
    async def take(self, items: Sequence[Item], now: float) -> Refusal | None:
        """Take one from every item atomically, or nothing when one refuses (then: the refusal)."""
        ...

    async def aclose(self) -> None:
        """Release connections (nothing for the in-process store)."""
        ...


class InProcessStore(MemoryStore):
    """:class:`MemoryStore` as a :class:`LimitStore` (no Redis configured)."""

    async def aclose(self) -> None:
        return None


class Limiter:
    """``compiled`` rules enforced with ``store`` at ``clock``'s time."""

    def __init__(self, compiled: CompiledLimits, store: LimitStore, clock: Clock) -> None:
        self.compiled = compiled
        self.store = store
        self.clock = clock

    @classmethod
    def from_config(cls, config: PorticoConfig, clock: Clock, store: LimitStore | None = None) -> Limiter:
        """The configured limits; ``store`` default: Redis when ``redis.url`` is set, else in-process."""
        compiled = CompiledLimits.of(
            config.limits.rules,
            config.limits.quotas,
            list(config.servers),
            registrations_per_minute=config.oauth.registrations_per_minute,
        )
        return cls(compiled, store if store is not None else _store(config), clock)

    def for_server(self, server: str) -> ServerLimits | None:
        """``server``'s rules and quotas, or None when nothing limits it (then nothing is installed)."""
        return self.compiled.servers.get(server)

    async def take(self, items: Sequence[Item], now: datetime | None = None) -> Refusal | None:
        """Take from ``items`` at ``now`` (default: the clock's; see :meth:`LimitStore.take`)."""
        return await self.store.take(items, (now or self.clock.now()).timestamp())

    async def check_endpoint(self, endpoint: Endpoint, address: str | None) -> Refusal | None:
        """One request to an authorization-server endpoint from ``address``; the refusal or None."""
        who = Identity(None, None, address)
        items = [rule.bucket("", None, who) for rule in self.compiled.endpoints[endpoint]]
        return await self.take(items)


def _store(config: PorticoConfig) -> LimitStore:
    if config.redis.url is None:
        return InProcessStore()
    from app.limits.redis_store import RedisStore  # only with Redis configured: redis-py is imported then

    return RedisStore(config.redis, lease=config.limits.lease == "auto")
