"""What one limit check asks of a store, and the token-bucket / fixed-window arithmetic both stores share.

A check is a list of items, all admitted or none (a request refused by one rule takes nothing from
the others): a :class:`Bucket` (token bucket: ``rate`` tokens per second refilled up to ``burst``,
one taken per request) or a :class:`Counter` (a quota: at most ``limit`` per window ending at
``window_end``). The Redis store runs the same arithmetic in Lua (app/limits/token_bucket.lua).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Bucket:
    """A token bucket: ``key`` (store key, prefixed by the store), ``rate`` per second, ``burst`` tokens."""

    key: str
    rate: float
    burst: int
    rule: str


@dataclass(frozen=True, slots=True)
class Counter:
    """A quota window: at most ``limit`` counts under ``key`` until ``window_end`` (epoch seconds)."""

    key: str
    limit: int
    window_end: float
    rule: str


Item = Bucket | Counter


@dataclass(frozen=True, slots=True)
class Refusal:
    """The check was refused by ``rule`` (a quota when ``quota``); admitted again after ``retry_after`` s (≥ 1)."""

    rule: str
    retry_after: int
    quota: bool = False


def refusal(item: Item, wait: float) -> Refusal:
    """The refusal ``item`` gives when the wait for it is ``wait`` seconds."""
    return Refusal(item.rule, retry_after(wait), isinstance(item, Counter))


def refill(tokens: float, updated: float, now: float, bucket: Bucket) -> float:
    """Tokens in ``bucket`` at ``now`` when it held ``tokens`` at ``updated`` (a clock going back adds nothing)."""
    return min(float(bucket.burst), tokens + max(0.0, now - updated) * bucket.rate)


def wait_for_token(tokens: float, bucket: Bucket) -> float:
    """Seconds until ``tokens`` reach 1 (0 when they do already)."""
    return 0.0 if tokens >= 1.0 else (1.0 - tokens) / bucket.rate


def retry_after(seconds: float) -> int:
    """Whole seconds for ``Retry-After`` (RFC 9110 §10.2.3): rounded up, at least 1."""
    return max(1, math.ceil(seconds - 1e-9))
