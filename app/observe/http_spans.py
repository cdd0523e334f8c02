"""SERVER spans for the authorization server's own requests: ``/authorize``, ``/token``, sign-in.

Installed only when tracing is on (:func:`app.observe.tracing_setup.install`), so it costs
nothing otherwise. Attributes follow the OpenTelemetry HTTP server conventions (semconv 1.x
``http.request.method``, ``http.route``, ``http.response.status_code``, ``url.scheme``); the
query string (codes, states, PKCE challenges) and bodies (secrets, codes) are never recorded.
Status ERROR for 5xx only (HTTP server conventions); a 4xx sets ``error.type`` to the status.
"""

from __future__ import annotations

from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.observe import tracing

__all__ = ["AuthorizationSpans", "route_of"]

_EXACT: Final = frozenset({"/authorize", "/token", "/login/dev"})
_CALLBACK: Final = "/login/callback/"


def route_of(path: str) -> str | None:
    """The low-cardinality route a traced path belongs to, or None when the path is not traced."""
    if path in _EXACT:
        return path
    if path.startswith(_CALLBACK):
        return _CALLBACK + "{provider}"
    return None


class AuthorizationSpans:
    """Pure ASGI: one SERVER span per traced request, parented on the caller's ``traceparent``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = route_of(scope.get("path", "")) if scope["type"] == "http" and tracing.ON else None
        if route is None:
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]]
        attributes = {"http.request.method": method, "http.route": route, "url.scheme": scope.get("scheme", "http")}
        parent = tracing.context_from_headers(headers)
        with tracing.span(f"{method} {route}", tracing.SpanKind.SERVER, attributes, parent) as span:

            async def observed(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                    span.set_attribute("http.response.status_code", status)
                    if status >= 400:
                        span.set_attribute("error.type", str(status))
                    if status >= 500:
                        tracing.fail(span, str(status), None)
                await send(message)

            await self.app(scope, receive, observed)
