"""Time as a dependency, so tests inject a fake clock instead of patching ``time`` (tests/support/clock.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def epoch_seconds(moment: datetime) -> int:
    """``moment`` (timezone-aware) as whole seconds since the epoch."""
    return int(moment.timestamp())


def from_epoch(seconds: int) -> datetime:
    """Epoch seconds as an aware UTC datetime."""
    return datetime.fromtimestamp(seconds, UTC)
