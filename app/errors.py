"""The only place exceptions become wire responses for Portico's own (non-protocol) routes.

Bodies use the OAuth-style ``{"error", "error_description"}`` shape. Unexpected exceptions are
logged once, here, and answered with a generic 500 that reveals nothing of the request.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

log = logging.getLogger("portico.errors")

_ERROR_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


def error_body(error: str, description: str) -> dict[str, str]:
    return {"error": error, "error_description": description}


async def http_exception(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = _ERROR_CODES.get(exc.status_code, "server_error" if exc.status_code >= 500 else "invalid_request")
    return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers)


async def validation_exception(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = sorted({".".join(str(p) for p in e["loc"][1:]) or "body" for e in exc.errors()})
    return JSONResponse(error_body("invalid_request", f"invalid or missing: {', '.join(fields)}"), status_code=400)


async def unexpected_exception(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(error_body("server_error", "internal error"), status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, http_exception)
    app.add_exception_handler(RequestValidationError, validation_exception)
    app.add_exception_handler(Exception, unexpected_exception)
