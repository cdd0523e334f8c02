"""The authorization server's routes, templates and background housekeeping, as one router.

``app.main.create_app`` includes :data:`router`; its lifespan runs a housekeeping pass at startup
and then keeps one running in the background (:mod:`oauth.housekeeping`), next to the source of
revocation events from other processes (:mod:`oauth.revocation_events`).
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import APIRouter, FastAPI

from app.db_executor import executor_for
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
from oauth.housekeeping import housekeep, housekeep_forever, sync_revocations
from oauth.revocation_events import deliver_to, revocation_event_source
from oauth.tokens.context import TOKEN_CONTEXT


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    runtime = TOKEN_CONTEXT.of_app(app)
    # Before the startup sync: a revocation recorded in between is then delivered, not missed.
    database = executor_for(runtime.engine)
    events = await database.run(
        lambda: revocation_event_source(runtime, resync=lambda: sync_revocations(runtime)), limit_seconds=math.inf
    )
    await database.run(lambda: housekeep(runtime), limit_seconds=math.inf)
    async with anyio.create_task_group() as background:
        background.start_soon(housekeep_forever, runtime)
        background.start_soon(events.run, deliver_to(runtime))
        yield
        background.cancel_scope.cancel()


router = APIRouter(lifespan=lifespan)
for _module in (well_known, jwks, authorize, consent_answer, consent_list, token, register, revoke, introspect):
    router.include_router(_module.router)
