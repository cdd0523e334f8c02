"""Keep Portico's startup heap out of the garbage collector's full passes (``gc.freeze``).

After imports and the app are built, some 200 000 long-lived objects (FastAPI, pydantic, SQLAlchemy,
Authlib, the MCP SDK, the config) sit in the oldest generation. Every full collection traverses them
— 40–160 ms on this machine — and under load a full collection comes every few seconds, because
objects of in-flight requests get promoted. Those pauses were the p95/p99 tail at concurrency 32
(docs/performance.md). Frozen objects are never traversed nor collected; what is alive at startup
lives for the process anyway.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> int:
    """Collect once, then move every surviving object to the permanent generation.

    Returns the number of objects frozen. Call once per process when startup is done (the app's
    lifespan), before serving; objects created later are collected as usual.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def thaw_startup_heap() -> None:
    """Undo :func:`freeze_startup_heap` at shutdown, so an embedding process (tests) can collect it again."""
    gc.unfreeze()
