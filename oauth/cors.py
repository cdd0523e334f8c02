"""CORS for the endpoints browser-based MCP clients call directly (metadata, JWKS, register, token, revoke).

These endpoints use no cookies, so any origin may call them without credentials
(``Access-Control-Allow-Origin: *``, never ``Allow-Credentials``). The authorization and consent
endpoints are browser navigations and get no CORS headers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from fastapi import APIRouter, Response

ALLOW_HEADERS = "Authorization, Content-Type, MCP-Protocol-Version"
MAX_AGE = "86400"
R = TypeVar("R", bound=Response)


def allow_any_origin(response: R) -> R:
    response.headers["access-control-allow-origin"] = "*"
    response.headers["access-control-expose-headers"] = "WWW-Authenticate"
    return response


def add_preflight(router: APIRouter, path: str, methods: Sequence[str]) -> None:
    """Answer ``OPTIONS path`` (the CORS preflight) with 204 and the allowed methods and headers."""
    allowed = ", ".join([*methods, "OPTIONS"])

    async def preflight() -> Response:
        response = Response(status_code=204)
        response.headers["access-control-allow-methods"] = allowed
        response.headers["access-control-allow-headers"] = ALLOW_HEADERS
        response.headers["access-control-max-age"] = MAX_AGE
        return allow_any_origin(response)

    router.add_api_route(path, preflight, methods=["OPTIONS"], include_in_schema=False)
