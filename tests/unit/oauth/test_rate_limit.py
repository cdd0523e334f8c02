"""The registration rate limit: a sliding window per key, on the injected clock."""

from __future__ import annotations

from oauth.rate_limit import SlidingWindowLimiter
from tests.support.clock import FakeClock


def test_the_limit_applies_per_key_within_the_window() -> None:
    limiter = SlidingWindowLimiter(2, FakeClock())
    assert [limiter.allow("1.2.3.4") for _ in range(3)] == [True, True, False]
    assert limiter.allow("5.6.7.8")


def test_the_window_slides() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(2, clock)
    limiter.allow("ip")
    clock.advance(30)
    limiter.allow("ip")
    assert not limiter.allow("ip")
    clock.advance(31)
    assert limiter.allow("ip")
    assert not limiter.allow("ip")
