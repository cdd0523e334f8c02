"""The authorization server's routes, templates and background housekeeping, as one router.

``app.main.create_app`` includes :data:`router`; its lifespan runs a housekeeping pass at startup
and then keeps one running in the background (:mod:`oauth.housekeeping`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.to_thread
from fastapi import APIRouter, FastAPI

from oauth.endpoints import (
    authorize,
    consent_answer,
    consent_list,
    introspect,
    jwks,
    register,
    revoke,
    token,
    well_known,
)
from oauth.housekeeping import housekeep, housekeep_forever
from oauth.tokens.context import TOKEN_CONTEXT


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    runtime = TOKEN_CONTEXT.of_app(app)
    await anyio.to_thread.run_sync(housekeep, runtime)
    async with anyio.create_task_group() as background:
        background.start_soon(housekeep_forever, runtime)
        yield
        background.cancel_scope.cancel()


router = APIRouter(lifespan=lifespan)
for _module in (well_known, jwks, authorize, consent_answer, consent_list, token, register, revoke, introspect):
    router.include_router(_module.router)
