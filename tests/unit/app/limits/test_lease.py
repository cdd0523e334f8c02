"""The lease book (app/limits/lease.py) without Redis: the lease size a rule allows, all-or-none local
spending, expiry on the caller's clock, one fetch in flight per key, refunds. Our own design (ADR 0021)."""

from __future__ import annotations

import pytest

from app.limits.buckets import Bucket, Counter
from app.limits.lease import LEASE_SECONDS, Leases, lease_size

T0 = 1_800_000_000.0
FAST = Bucket("fast", rate=1000.0, burst=1000, rule="fast")
SMALL = Bucket("small", rate=1000.0, burst=40, rule="small")
DAILY = Counter("daily", limit=10, window_end=T0 + 3600, rule="daily")


@pytest.mark.parametrize(
    ("rate", "burst", "k"),
    [
        (10.0, 100, 1),  # 600/minute: 0.1 s of refill is one token, exact
        (0.5, 1000, 1),
        (100.0, 100, 10),  # a tenth of the burst and 0.1 s of refill
        (100.0, 30, 3),  # a tenth of the burst
        (50.0, 1000, 5),  # 0.1 s of refill
        (1_000_000.0, 1_000_000, 16),  # at most 16
        (1000.0, 9, 1),  # a burst under 10 is never leased
    ],
)
def test_the_lease_size_is_the_smallest_of_its_three_bounds(rate: float, burst: int, k: int) -> None:
    assert lease_size(Bucket("b", rate, burst, "r")) == k


def granted(leases: Leases, items: list[Bucket | Counter], now: float) -> list[int]:
    """What a miss asks for, as if Redis gave all of it."""
    reserved, remote, wants = leases.split(items, now)
    assert reserved == []
    leases.settle(remote, wants, wants, now)
    return wants


def test_a_miss_asks_for_a_lease_and_the_surplus_is_spent_locally() -> None:
    leases = Leases()
    assert not leases.spend([FAST], T0)
    assert granted(leases, [FAST], T0) == [16]
    assert [leases.spend([FAST], T0) for _ in range(16)] == [True] * 15 + [False]


def test_a_lease_expires_after_its_seconds_and_not_before_it_was_granted() -> None:
    leases = Leases()
    granted(leases, [FAST], T0)
    assert leases.held(FAST.key, T0 + LEASE_SECONDS - 0.001) == 15
    assert not leases.spend([FAST], T0 + LEASE_SECONDS)
    assert not leases.spend([FAST], T0 - LEASE_SECONDS)  # a clock gone back does not stretch it


def test_local_spending_is_all_or_none() -> None:
    leases = Leases()
    granted(leases, [FAST], T0)
    assert not leases.spend([FAST, SMALL], T0)  # SMALL holds nothing
    assert not leases.spend([FAST, DAILY], T0)  # a quota is never held
    assert leases.held(FAST.key, T0) == 15


def test_quotas_are_asked_for_one_and_never_kept() -> None:
    leases = Leases()
    assert granted(leases, [FAST, DAILY], T0) == [16, 1]
    assert leases.held(DAILY.key, T0) == 0


def test_one_fetch_per_key_is_in_flight_at_a_time() -> None:
    leases = Leases()
    _, _, first = leases.split([FAST], T0)
    _, _, second = leases.split([FAST], T0)
    assert (first, second) == ([16], [1])  # the concurrent miss asks for its own token only
    leases.settle([FAST], first, None, T0)  # refused or failed: nothing kept, the fetch ends
    _, _, third = leases.split([FAST], T0)
    assert third == [16]


def test_held_tokens_are_reserved_then_refunded_when_the_check_is_refused() -> None:
    leases = Leases()
    granted(leases, [FAST], T0)
    reserved, remote, wants = leases.split([FAST, SMALL], T0)
    assert (len(reserved), remote, wants) == (1, [SMALL], [4])
    assert leases.held(FAST.key, T0) == 14
    Leases.refund(reserved)
    leases.settle(remote, wants, None, T0)
    assert leases.held(FAST.key, T0) == 15 and leases.held(SMALL.key, T0) == 0
