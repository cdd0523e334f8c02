"""The only place exceptions become wire responses for Portico's own (non-protocol) routes.

Bodies use the OAuth-style ``{"error", "error_description"}`` shape. Unexpected exceptions are
logged once, here, and answered with a generic 500 that reveals nothing of the request. A database
outage (:class:`~app.db_outage.DatabaseUnavailableError`) is 503 with ``Retry-After``: the RFC 6749
§5.2 body ``temporarily_unavailable`` on JSON endpoints, Portico's error page on browser ones; it is
logged once per outage by :mod:`app.db_outage`, never per request.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from app.db_outage import DatabaseUnavailableError
from app.web import error_page

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


BROWSER_PATHS = ("/authorize", "/login", "/logout", "/consent", "/connections")
"""Routes a browser navigates to: they answer with pages, never with JSON bodies."""


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


async def database_unavailable(request: Request, exc: Exception) -> Response:
    """503 + ``Retry-After`` (RFC 9110 §15.6.4): a page for browsers, else RFC 6749 §5.2 ``temporarily_unavailable``."""
    assert isinstance(exc, DatabaseUnavailableError)
    headers = {"retry-after": str(exc.retry_after), "cache-control": "no-store"}
    if is_browser_path(request.url.path):
        message = f"Portico cannot reach its database right now. Try again in {exc.retry_after} seconds."
        page = error_page(request, "Sign-in is temporarily unavailable", message, 503)
        page.headers.update(headers)
        return page
    description = f"the authorization server's database is unavailable; retry after {exc.retry_after} seconds"
    body = error_body("temporarily_unavailable", description)
    # CORS as on the OAuth endpoints themselves: a browser-based client can read the reason.
    return JSONResponse(body, status_code=503, headers={**headers, "access-control-allow-origin": "*"})


def is_browser_path(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in BROWSER_PATHS)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DatabaseUnavailableError, database_unavailable)
    app.add_exception_handler(HTTPException, http_exception)
    app.add_exception_handler(RequestValidationError, validation_exception)
    app.add_exception_handler(Exception, unexpected_exception)
