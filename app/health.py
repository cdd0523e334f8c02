"""``/healthz`` (the process is up) and ``/readyz`` (database reachable, migrations current).

``/readyz`` answers 503 within ``database.readiness_timeout_seconds`` when the database is refused,
silent or busy (its check runs on the database executor, :mod:`app.db_executor`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app import migrate
from app.context import APP_CONTEXT, AppContext
from app.db_executor import executor_for

router = APIRouter()


@router.get("/healthz")
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    runtime = APP_CONTEXT.of(request)
    timeout = runtime.config.database.readiness_timeout_seconds
    try:
        checks = await executor_for(runtime.engine).run(lambda: _check(runtime), limit_seconds=timeout)
    except Exception:  # noqa: BLE001 - any failure means "not ready"; an outage is logged by app.db_outage
        checks = UNREACHABLE
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status_code=200 if ready else 503
    )


UNREACHABLE = {"database": "unreachable", "migrations": "unknown"}


def _check(runtime: AppContext) -> dict[str, str]:
    with runtime.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return {"database": "ok", "migrations": "ok" if migrate.is_current(runtime.engine) else "pending"}
