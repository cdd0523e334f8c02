"""The app's lifespan freezes the startup heap for the garbage collector and thaws it at shutdown."""

from __future__ import annotations

import gc

import pytest
from fastapi import FastAPI

pytestmark = pytest.mark.anyio


async def test_the_startup_heap_is_frozen_while_serving_and_thawed_after(app: FastAPI) -> None:
    """Our choice (docs/performance.md): full collections skip what startup built; nothing stays frozen."""
    gc.unfreeze()
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() > 10_000
    assert gc.get_freeze_count() == 0
