"""Rate limits on the authorization server's endpoints: ``POST /register``, ``POST /token``,
``GET /authorize`` and sign-in (``/login`` and below), per client address.

An ASGI middleware inside the forwarded-headers one (``listen.trusted_proxies``: the address is the
real client's). Over a limit: 429 with ``Retry-After`` (RFC 6585 §4, RFC 9110 §10.2.3) and an
RFC 6749 §5.2-style body ``{"error": "too_many_requests", "error_description": …}`` (CORS-readable,
like the endpoints), or a page for browser routes (``/authorize``, sign-in). The endpoint's own
code never runs. Every endpoint has a default rule (docs/limits.md §Defaults). Limited requests are
counted (:data:`app.limits.counts.LIMITED`, metric ``portico_rate_limited_total{scope="endpoint"}``).
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app.config.rate_limits import Endpoint
from app.limits.buckets import Refusal
from app.limits.counts import LIMITED
from app.limits.limiter import Limiter
from app.web import error_page

_POSTED: dict[str, Endpoint] = {"/register": "/register", "/token": "/token"}


def endpoint_of(method: str, path: str) -> Endpoint | None:
    """The limited endpoint a request is for, or None (preflights and other routes are never limited)."""
    if method == "POST" and path in _POSTED:
        return _POSTED[path]
    if method not in ("GET", "POST"):
        return None
    if path == "/authorize" and method == "GET":
        return "/authorize"
    if path == "/login" or path.startswith("/login/"):
        return "sign-in"
    return None


class EndpointLimitMiddleware:
    """Checks ``limiter``'s endpoint rules before the endpoint runs."""

    def __init__(self, app: ASGIApp, *, limiter: Limiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (endpoint := endpoint_of(scope["method"], scope["path"])) is None:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        refusal = await self.limiter.check_endpoint(endpoint, client[0] if client else None)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        LIMITED.add(refusal.rule, "endpoint")
        await too_many_requests(Request(scope), endpoint, refusal)(scope, receive, send)


def too_many_requests(request: Request, endpoint: Endpoint, refusal: Refusal) -> Response:
    """429 for ``endpoint``: a page on browser routes, else the JSON body (never another client's data)."""
    seconds = refusal.retry_after
    headers = {"retry-after": str(seconds), "cache-control": "no-store"}
    if endpoint in ("/authorize", "sign-in"):
        message = f"Too many requests from your network. Please wait {seconds} seconds, then try again."
        page = error_page(request, "Too many requests", message, 429)
        page.headers.update(headers)
        return page
    body = {
        "error": "too_many_requests",
        "error_description": f"rate limit {refusal.rule!r} reached; retry after {seconds} seconds",
    }
    return JSONResponse(body, status_code=429, headers={**headers, "access-control-allow-origin": "*"})
