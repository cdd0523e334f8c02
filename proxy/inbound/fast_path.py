"""The data plane's short path: ``/<name>/mcp`` and ``/<name>/sse[/messages]`` served before the router.

Matching those requests through FastAPI's router and the middleware chain was ~10–20 % of a warm
proxied call (docs/performance.md). :class:`McpFastPath` sits outside the app's other middleware,
inside only the request edge (forwarded headers, ``Host``, CORS: ``app.main``) and Starlette's
``ServerErrorMiddleware`` (which still turns an unexpected exception into the generic 500 of
``app.errors``), and sends each request whose path is exactly a
configured server's MCP path straight to its endpoint, with one dictionary lookup. It keeps what
the skipped stack guarantees on those routes:

- the baseline security headers (``app.middleware.add_security_headers``);
- the body limit: ``Content-Length`` over ``limits.max_body_bytes`` → 413 before anything is read,
  a streamed body passing it → 413 if no response has started;
- the bearer-check rejections (``resource_server.resource_server_error``: status, challenge,
  ``Cache-Control: no-store``, the refusal logged without the token) and any other
  ``HTTPException`` rendered by ``app.errors``.

Nothing else applied to these routes before: CORS on MCP routes is the outer ``proxy.inbound.cors``
layer (the OAuth endpoints have their own, ``oauth/cors.py``), and uvicorn's access log is written
below the app, so neither changes.

The table is built once, on the first request (after every route is registered): a path goes on
the short path only if the router itself would hand it to the gateway's endpoint, for every
method — so a route registered ahead of the gateway's (as some tests do) still wins. Anything
else (unknown names, a trailing slash, ``root_path`` deployments) takes the ordinary stack.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import BaseRoute, Match, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import http_exception
from app.middleware import BodyTooLargeError, add_security_headers, declared_too_large, limited, reject_too_large
from proxy.auth.resource_server import ResourceServerError, resource_server_error
from proxy.inbound.endpoint import McpEndpoint
from proxy.inbound.legacy_sse import LegacySseEndpoint

_METHODS = ("GET", "POST", "DELETE")
_KINDS = ("mcp", "sse", "sse/messages")


class McpFastPath:
    """Pure-ASGI middleware; ``router`` is the app's router, ``servers`` the configured server names."""

    def __init__(
        self, app: ASGIApp, *, router: Router, servers: Iterable[str], max_body_bytes: int, https: bool
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.https = https
        self._targets: dict[str, tuple[ASGIApp, str]] = {}
        for server in servers:
            for kind in _KINDS:
                path = f"/{server}/{kind}"
                endpoint = _routed_endpoint(router.routes, path)
                if endpoint is not None:
                    self._targets[path] = (endpoint, server)

    @property
    def paths(self) -> frozenset[str]:
        """The paths served on the short path (for tests and diagnostics)."""
        return frozenset(self._targets)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = self._targets.get(scope["path"]) if scope["type"] == "http" and not scope.get("root_path") else None
        if target is None:
            await self.app(scope, receive, send)
            return
        endpoint, server = target
        scope["path_params"] = {"server": server}
        https = self.https
        started = False

        async def secured_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                add_security_headers(message, https=https)
            await send(message)

        if declared_too_large(scope, self.max_body_bytes):
            await reject_too_large(secured_send, self.max_body_bytes)
            return
        try:
            await endpoint(scope, limited(receive, self.max_body_bytes), secured_send)
        except BodyTooLargeError:
            if started:
                raise
            await reject_too_large(secured_send, self.max_body_bytes)
        except ResourceServerError as error:
            if started:
                raise
            response = await resource_server_error(Request(scope, receive), error)
            await response(scope, receive, secured_send)
        except HTTPException as error:
            if started:
                raise
            response = await http_exception(Request(scope, receive), error)
            await response(scope, receive, secured_send)


def _routed_endpoint(routes: Sequence[BaseRoute], path: str) -> ASGIApp | None:
    """The gateway endpoint the router gives ``path`` for every method, or None if any method goes elsewhere."""
    found: ASGIApp | None = None
    for method in _METHODS:
        endpoint = _leaf_endpoint(routes, {"type": "http", "path": path, "method": method, "root_path": ""})
        if not isinstance(endpoint, McpEndpoint | LegacySseEndpoint) or (found is not None and endpoint is not found):
            return None
        found = endpoint
    return found


def _leaf_endpoint(routes: Sequence[BaseRoute], scope: Scope) -> object:
    """The endpoint of the route the router would pick (first full match, else first partial)."""
    chosen: BaseRoute | None = None
    for route in routes:
        match, _child = route.matches(scope)
        if match is Match.FULL:
            chosen = route
            break
        if match is Match.PARTIAL and chosen is None:
            chosen = route
    if chosen is None:
        return None
    nested = getattr(getattr(chosen, "original_router", None), "routes", None)  # FastAPI's included routers
    if nested is not None:
        return _leaf_endpoint(nested, scope)
    return getattr(chosen, "endpoint", None)
