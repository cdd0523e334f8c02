"""The authorization server's routes, templates and background housekeeping, as one router.

``app.main.create_app`` includes :data:`router`; its lifespan runs a housekeeping pass at startup
and then keeps one running in the background (:mod:`oauth.housekeeping`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import anyio.to_thread
from fastapi import APIRouter, FastAPI

from app.web import add_template_dir
from oauth.endpoints import authorize, consent, consents, introspect, jwks, register, revoke, token, well_known
from oauth.housekeeping import housekeep, housekeep_forever

add_template_dir(Path(__file__).resolve().parent / "templates")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    runtime = app.state.runtime
    await anyio.to_thread.run_sync(housekeep, runtime)
    async with anyio.create_task_group() as background:
        background.start_soon(housekeep_forever, runtime)
        yield
        background.cancel_scope.cancel()


router = APIRouter(lifespan=lifespan)
for _module in (well_known, jwks, authorize, consent, consents, token, register, revoke, introspect):
    router.include_router(_module.router)
