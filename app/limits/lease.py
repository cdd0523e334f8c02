"""Locally pre-granted tokens of Redis-backed buckets: a per-process lease (issue #21, ADR 0021).

When a request misses locally, the Redis store's one Lua call takes the request's token and, where the
rule allows, up to ``k − 1`` more (:func:`lease_size`); those wait here for the next requests of the same
key, which then cost a dictionary lookup and a decrement instead of a round trip. A request whose every
bucket holds a token here makes no call; otherwise its held tokens are reserved here and the one call
takes from the others only — all or none still: a refused request gives the reserved tokens back.

Exactness (docs/limits.md §Stores and exactness):

- never over-admits: a token is spent only after Redis granted it;
- under-admits by at most ``(k − 1) × instances`` tokens per key: a process holds at most ``k − 1``
  surplus tokens of a key (one fetch in flight per key, none while it still holds some), and holds
  them at most :data:`LEASE_SECONDS`; the unspent ones are dropped (the rule refills them in ≤ 0.1 s);
- quotas are never leased (a count never refills: an expired lease would burn a user's calls).

Keyed on the bucket's store key; ``now`` is the caller's clock (epoch seconds), as for the buckets.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.limits.buckets import Bucket, Item

LEASE_MAX = 16
"""Tokens per lease at most: past that, one round trip per 16 calls is already noise."""
LEASE_BURST_SHARE = 10
"""A lease is at most a tenth of the burst (``burst // 10``)."""
LEASE_REFILL_SECONDS = 0.1
"""A lease is at most what the rule refills in 0.1 s, so a dropped lease is refilled that fast."""
LEASE_SECONDS = 1.0
"""How long surplus tokens are kept (the caller's clock); bounds how stale a granted token can be."""
_PRUNE_ABOVE = 10_000  # held keys past which expired leases are dropped on the next grant


def lease_size(bucket: Bucket) -> int:
    """``k``: tokens one Lua call may take for ``bucket`` (1: exact, as without a lease).

    ``max(1, min(16, burst // 10, floor(rate × 0.1 s)))`` — e.g. 1 for ``600/minute`` (10/s), 10 for
    ``100/second`` with burst 100, 16 from 160/second and burst 160.
    """
    by_rate = int(bucket.rate * LEASE_REFILL_SECONDS)
    return max(1, min(LEASE_MAX, bucket.burst // LEASE_BURST_SHARE, by_rate))


class Leases:
    """This process's surplus tokens: bucket key → ``[tokens left, expiry]`` (epoch seconds)."""

    __slots__ = ("_fetching", "_held", "seconds")

    def __init__(self, seconds: float = LEASE_SECONDS) -> None:
        self.seconds = seconds
        self._held: dict[str, list[float]] = {}
        self._fetching: set[str] = set()

    def spend(self, items: Sequence[Item], now: float) -> bool:
        """Take one local token of every item, or none: False when one has none left (or is a quota)."""
        held = self._held
        for item in items:
            lease = held.get(item.key)
            if lease is None or lease[0] < 1.0 or not 0.0 < lease[1] - now <= self.seconds:
                return False
        for item in items:
            held[item.key][0] -= 1.0
        return True

    def split(self, items: Sequence[Item], now: float) -> tuple[list[list[float]], list[Item], list[int]]:
        """Reserve one held token of every item that has one; the others go to Redis.

        Returns the reserved leases (give them back with :meth:`refund` when the check is refused),
        the items for Redis and the tokens to ask for each: ``k`` for a bucket with no fetch in flight
        (then marked in flight until :meth:`settle`), else 1 (quotas: 1).
        """
        reserved: list[list[float]] = []
        remote: list[Item] = []
        wants: list[int] = []
        for item in items:
            lease = self._held.get(item.key)
            if lease is not None and lease[0] >= 1.0 and 0.0 < lease[1] - now <= self.seconds:
                lease[0] -= 1.0
                reserved.append(lease)
                continue
            want = 1
            if isinstance(item, Bucket) and item.key not in self._fetching:
                want = lease_size(item)
                if want > 1:
                    self._fetching.add(item.key)
            remote.append(item)
            wants.append(want)
        return reserved, remote, wants

    @staticmethod
    def refund(reserved: Sequence[list[float]]) -> None:
        """Give back tokens :meth:`split` reserved (a lease replaced meanwhile keeps them: dropped)."""
        for lease in reserved:
            lease[0] += 1.0

    def settle(self, items: Sequence[Item], wants: Sequence[int], granted: Sequence[int] | None, now: float) -> None:
        """Keep the surplus Redis ``granted`` per item (None: refused or failed); end the fetches in flight."""
        for index, (item, want) in enumerate(zip(items, wants, strict=True)):
            if want == 1:
                continue
            self._fetching.discard(item.key)
            surplus = granted[index] - 1 if granted is not None else 0
            if surplus > 0:
                self._keep(item.key, surplus, now)

    def held(self, key: str, now: float) -> int:
        """Surplus tokens of ``key`` usable at ``now`` (0: none, or expired)."""
        lease = self._held.get(key)
        return int(lease[0]) if lease is not None and 0.0 < lease[1] - now <= self.seconds else 0

    def _keep(self, key: str, surplus: int, now: float) -> None:
        if len(self._held) > _PRUNE_ABOVE:
            self._held = {k: v for k, v in self._held.items() if v[0] >= 1.0 and v[1] > now}
        self._held[key] = [float(surplus), now + self.seconds]
