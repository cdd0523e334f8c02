"""The Redis store: rate-limit state shared by every worker and instance, in one atomic Lua script.

One ``EVALSHA`` per check that misses locally (atomically, every quota window and every bucket with
no leased token held here, app/limits/take.lua), which also leases up to ``k − 1`` surplus tokens
per bucket to this process (app/limits/lease.py; ``limits.lease: off``: none, every check is one
call over all its items); a check whose every item holds a leased token is answered without a call
(quotas are never leased). Keys
carry ``redis.key_prefix`` and expire once they mean nothing (a bucket refilled to ``burst``, an
ended window). Time is the caller's clock (instances should run NTP; a clock behind only refills
less).

Redis must never take the hot path down: every call is bounded by ``redis.timeout_ms`` (connect
included) and any failure falls back to the in-process store (limits then per process) for
``redis.retry_seconds`` — a circuit breaker, so a dead Redis costs nothing per call meanwhile.
One WARNING when Redis is lost, one when it is back; never its URL (it may hold a password).
Checks answered by the fallback are counted (:data:`app.limits.counts.LIMITED`, metric
``portico_rate_limit_fallbacks_total``). docs/limits.md §Redis, ADR 0021.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import anyio
from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.config.redis import RedisConfig
from app.limits.buckets import Bucket, Item, Refusal, refusal
from app.limits.counts import LIMITED
from app.limits.lease import Leases
from app.limits.memory_store import MemoryStore

log = logging.getLogger("portico.limits")

SCRIPT = (Path(__file__).with_name("take.lua")).read_text(encoding="utf-8")


class RedisStore:
    """Checks in Redis at ``config.url``; the in-process :class:`MemoryStore` while it is unreachable.

    ``lease``: keep surplus tokens locally (:class:`~app.limits.lease.Leases`); False: every check is
    one Redis call, exact as without leases.
    """

    def __init__(self, config: RedisConfig, *, lease: bool = True) -> None:
        assert config.url is not None
        self._timeout = config.timeout_ms / 1000
        self._retry = config.retry_seconds
        self._prefix = config.key_prefix
        self._redis = Redis.from_url(
            config.url,
            socket_timeout=self._timeout,
            socket_connect_timeout=self._timeout,
            retry_on_timeout=False,
            health_check_interval=0,
        )
        self._script = self._redis.register_script(SCRIPT)
        self.fallback = MemoryStore()
        self.leases = Leases() if lease else None
        self._down_until: float | None = None  # monotonic; None: Redis is believed up

    @property
    def is_down(self) -> bool:
        """True while checks go to the in-process fallback."""
        return self._down_until is not None

    async def take(self, items: Sequence[Item], now: float) -> Refusal | None:
        if not items:
            return None
        leases = self.leases
        if leases is not None and leases.spend(items, now):
            return None  # the warm path: Redis granted these tokens already (also while it is down)
        if self._down_until is not None and time.monotonic() < self._down_until:
            return self._fall_back(items, now)
        reserved: list[list[float]] = []
        remote, wants = items, [1] * len(items)
        if leases is not None:
            reserved, remote, wants = leases.split(items, now)
        granted: list[int] | None = None
        try:
            with anyio.fail_after(self._timeout):
                answer = await self._script(keys=[self._prefix + i.key for i in remote], args=_args(remote, wants, now))
            if int(answer[0]) == 0:
                granted = [int(given) for given in answer[2:]]
        except (RedisError, OSError, TimeoutError) as error:
            self._lost(error)
            return self._fall_back(items, now)
        finally:
            if granted is None:  # refused, failed or cancelled: the reserved tokens are still ours
                Leases.refund(reserved)
            if leases is not None:
                leases.settle(remote, wants, granted, now)
        self._back()
        if granted is not None:
            return None
        if leases is not None and leases.spend(items, now):
            return None  # a concurrent check's lease arrived meanwhile: tokens Redis granted
        return refusal(remote[int(answer[0]) - 1], float(answer[1]))

    async def aclose(self) -> None:
        await self._redis.aclose()

    def _fall_back(self, items: Sequence[Item], now: float) -> Refusal | None:
        LIMITED.fell_back()
        return self.fallback.take_now(items, now)

    def _lost(self, error: BaseException) -> None:
        if self._down_until is None:  # the type only: a message may carry the host or the URL
            log.warning(
                "Redis unreachable (%s): rate limits are per process until it answers again", type(error).__name__
            )
        self._down_until = time.monotonic() + self._retry

    def _back(self) -> None:
        if self._down_until is not None:
            self._down_until = None
            log.warning("Redis answers again: rate limits are shared again")


def _args(items: Sequence[Item], wants: Sequence[int], now: float) -> list[str]:
    args = [repr(now)]
    for item, want in zip(items, wants, strict=True):
        if isinstance(item, Bucket):
            args += ["b", repr(item.rate), str(item.burst), str(want)]
        else:
            args += ["c", str(item.limit), repr(item.window_end), "1"]
    return args
