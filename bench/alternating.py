"""Shared by the A/B cost benchmarks (policy, observability, tracing): how rounds are summarised and compared.

Each benchmark runs the same warm call through variants of one build in alternating rounds and
reports, per variant, the best and the median round (CPU µs per call).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping

PICKS: dict[str, Callable[[list[float]], float]] = {"best": min, "median": statistics.median}


def summarize(rounds: Mapping[str, list[float]]) -> dict[str, float]:
    """``{"<variant> best": …, "<variant> median": …}`` for every variant's rounds."""
    return {f"{name} {how}": pick(values) for name, values in rounds.items() for how, pick in PICKS.items()}


def added(off: float, on: float) -> str:
    """What ``on`` adds to ``off``, as a signed percentage (``+2.8 %``)."""
    return f"{(on - off) / off * 100:+.1f} %"
