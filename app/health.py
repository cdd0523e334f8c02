"""``/healthz`` (the process is up) and ``/readyz`` (database reachable, migrations current)."""

from __future__ import annotations

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app import migrate
from app.context import APP_CONTEXT, AppContext

router = APIRouter()


@router.get("/healthz")
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    runtime = APP_CONTEXT.of(request)
    checks = await anyio.to_thread.run_sync(_check, runtime)
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status_code=200 if ready else 503
    )


def _check(runtime: AppContext) -> dict[str, str]:
    try:
        with runtime.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means "not ready"; details stay in the log
        return {"database": "unreachable", "migrations": "unknown"}
    return {"database": "ok", "migrations": "ok" if migrate.is_current(runtime.engine) else "pending"}
