"""Health endpoints, security headers, body limit and error bodies, in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from app.db import create_db_engine

pytestmark = pytest.mark.anyio


async def test_healthz_answers_ok(http: httpx2.AsyncClient) -> None:
    response = await http.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_reports_database_and_migrations(http: httpx2.AsyncClient) -> None:
    response = await http.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "migrations": "ok"}}


async def test_readyz_is_503_when_the_database_is_gone(http: httpx2.AsyncClient, app: FastAPI, tmp_path: Path) -> None:
    runtime = app.state.runtime
    runtime.engine = create_db_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}")
    response = await http.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "unreachable"


async def test_security_headers_are_on_every_response(http: httpx2.AsyncClient) -> None:
    response = await http.get("/healthz")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "strict-transport-security" not in response.headers  # loopback http


async def test_unknown_route_gets_a_json_error_body(http: httpx2.AsyncClient) -> None:
    response = await http.get("/no-such-thing")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


async def _echo(request: Request) -> JSONResponse:
    return JSONResponse({"size": len(await request.body())})


async def test_declared_oversized_body_is_refused_with_413(app: FastAPI, http: httpx2.AsyncClient) -> None:
    app.add_api_route("/echo", _echo, methods=["POST"])
    limit = app.state.runtime.config.limits.max_body_bytes
    response = await http.post("/echo", content=b"x" * (limit + 1))
    assert response.status_code == 413
    assert response.json()["error"] == "request_too_large"


async def test_streamed_oversized_body_without_length_is_refused_with_413(
    app: FastAPI, http: httpx2.AsyncClient
) -> None:
    app.add_api_route("/echo", _echo, methods=["POST"])
    limit = app.state.runtime.config.limits.max_body_bytes

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536

    response = await http.post("/echo", content=chunks())
    assert response.status_code == 413


async def test_body_within_the_limit_reaches_the_route(app: FastAPI, http: httpx2.AsyncClient) -> None:
    app.add_api_route("/echo", _echo, methods=["POST"])
    response = await http.post("/echo", content=b"x" * 1000)
    assert response.json() == {"size": 1000}
