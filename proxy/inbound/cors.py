"""CORS for browser MCP clients on ``/<name>/mcp``, ``/<name>/sse`` and ``/<name>/sse/messages`` (Fetch §3.2).

Only origins Portico allows (``public_url``'s and ``gateway.allowed_origins``, the same set as the
``Origin`` check of :mod:`proxy.inbound.origin`) get CORS headers, always the exact origin, never
``*``, and never ``Access-Control-Allow-Credentials`` (MCP routes authenticate with the
``Authorization`` header, not cookies):

- a preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``) is answered here,
  before authentication: 204 with the allowed methods and request headers for an allowed origin,
  403 with a JSON-RPC error (no CORS headers) for any other;
- every other response to an allowed origin (401 and 403 from the bearer check included) carries
  ``Access-Control-Allow-Origin`` and exposes ``Mcp-Session-Id``, ``WWW-Authenticate`` and
  ``MCP-Protocol-Version``.

A request without ``Origin`` (native clients) passes untouched; MCP paths are recognised by their
suffix, so unknown server names are answered exactly like known ones.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from proxy.inbound.origin import origin_of
from proxy.wire.asgi import send_json
from proxy.wire.errors import OriginNotAllowedError
from proxy.wire.jsonrpc import encode

MCP_PATH_SUFFIXES = ("/mcp", "/sse", "/sse/messages")
ALLOW_METHODS = "GET, POST, DELETE, OPTIONS"
# The 2026-07-28 routing headers (Mcp-Method, Mcp-Name) besides the handshake era's.
ALLOW_HEADERS = (
    "Authorization, Content-Type, Accept, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID, Mcp-Method, Mcp-Name"
)
EXPOSE_HEADERS = "Mcp-Session-Id, WWW-Authenticate, Mcp-Protocol-Version"
MAX_AGE = "7200"  # Chromium's cap; longer values are cut to it
_REPLACED = frozenset({b"access-control-allow-origin", b"access-control-expose-headers"})


def is_mcp_path(path: str) -> bool:
    """``/<name>/mcp``, ``/<name>/sse`` or ``/<name>/sse/messages`` for any ``name`` (known or not)."""
    return path.endswith(MCP_PATH_SUFFIXES) and path.count("/") <= 3


class McpCors:
    """Pure-ASGI middleware around the data plane; ``origins`` are the allowed browser origins."""

    def __init__(self, app: ASGIApp, *, origins: Iterable[str]) -> None:
        self.app = app
        self.origins = frozenset(origin_of(origin).encode("latin-1") for origin in origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_mcp_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        origin = preflight_method = None
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = value
            elif name == b"access-control-request-method":
                preflight_method = value
        if origin is None:
            await self.app(scope, receive, send)
            return
        allowed = origin in self.origins
        if scope["method"] == "OPTIONS" and preflight_method is not None:
            await (_allow_preflight(send, origin) if allowed else _refuse_preflight(send))
            return
        await self.app(scope, receive, _with_cors(send, origin) if allowed else send)


def _with_cors(send: Send, origin: bytes) -> Send:
    extra = [
        (b"access-control-allow-origin", origin),
        (b"access-control-expose-headers", EXPOSE_HEADERS.encode()),
        (b"vary", b"Origin"),
    ]

    async def cors_send(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers") or () if k.lower() not in _REPLACED]
            message["headers"] = headers + extra
        await send(message)

    return cors_send


async def _allow_preflight(send: Send, origin: bytes) -> None:
    headers = [
        (b"access-control-allow-origin", origin),
        (b"access-control-allow-methods", ALLOW_METHODS.encode()),
        (b"access-control-allow-headers", ALLOW_HEADERS.encode()),
        (b"access-control-max-age", MAX_AGE.encode()),
        (b"vary", b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers"),
        (b"cache-control", b"no-store"),
    ]
    await send({"type": "http.response.start", "status": 204, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


async def _refuse_preflight(send: Send) -> None:
    error = OriginNotAllowedError("Forbidden: Origin is not allowed")
    await send_json(send, error.http_status, encode(error.to_message(None)), error.headers)
