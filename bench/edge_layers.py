"""Micro-benchmark of the request-edge layers every call passes: ``python -m bench.edge_layers``.

Each layer wraps a no-op ASGI app and is called with the scope of a warm proxied ``tools/call``
(nine request headers, the way an MCP SDK client sends them); the best of 15 repeats of 20,000
calls is printed in µs per call, minus the bare no-op call. Whole-call costs are in ``make bench``
(bench/run.py); these layers are too small to see there.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import cast

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.allowed_hosts import AllowedHostsMiddleware
from app.forwarded import ForwardedMiddleware
from proxy.inbound.cors import McpCors

CALLS = 20_000
REPEATS = 15
HEADERS = [
    (b"host", b"gw.example.com"),
    (b"user-agent", b"python-httpx/0.28.1"),
    (b"accept", b"application/json, text/event-stream"),
    (b"content-type", b"application/json"),
    (b"authorization", b"Bearer " + b"x" * 600),
    (b"mcp-protocol-version", b"2025-11-25"),
    (b"mcp-session-id", b"8f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e"),
    (b"content-length", b"181"),
    (b"accept-encoding", b"gzip, deflate"),
]
ORIGIN = (b"origin", b"https://app.example.com")
FORWARDED_FOR = (b"x-forwarded-for", b"203.0.113.9")
FORWARDED_PROTO = (b"x-forwarded-proto", b"https")
FORWARDED = (b"forwarded", b"for=203.0.113.9;proto=https")


async def _noop(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})


async def _receive() -> Message:
    return {"type": "http.request", "body": b""}


async def _send(message: Message) -> None:
    return None


async def _per_call(app: ASGIApp, headers: list[tuple[bytes, bytes]]) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        for _ in range(CALLS):
            scope: Scope = {
                "type": "http",
                "method": "POST",
                "path": "/notes/mcp",
                "headers": headers,
                "client": ("127.0.0.1", 40000),
                "scheme": "http",
            }
            await app(scope, _receive, _send)
        best = min(best, (time.perf_counter() - started) / CALLS * 1e6)
    return best


CASES: list[tuple[str, Callable[[ASGIApp], ASGIApp], list[tuple[bytes, bytes]]]] = [
    ("allowed hosts", lambda app: AllowedHostsMiddleware(app, hosts=["gw.example.com"]), HEADERS),
    ("CORS, no Origin (native client)", lambda app: McpCors(app, origins=["https://app.example.com"]), HEADERS),
    ("CORS, allowed Origin", lambda app: McpCors(app, origins=["https://app.example.com"]), [*HEADERS, ORIGIN]),
    (
        "X-Forwarded-For/Proto, trusted hop",
        lambda app: cast(ASGIApp, ProxyHeadersMiddleware(app, trusted_hosts=["127.0.0.1"])),  # type: ignore[arg-type]
        [*HEADERS, FORWARDED_FOR, FORWARDED_PROTO],
    ),
    (
        "Forwarded (RFC 7239), trusted hop",
        lambda app: ForwardedMiddleware(app, trusted=["127.0.0.1"]),
        [*HEADERS, FORWARDED],
    ),
]


async def _main() -> None:
    bare = await _per_call(_noop, HEADERS)
    print(f"bare no-op call: {bare:.3f} µs")
    print("| layer | µs per call |")
    print("|---|---|")
    for name, wrap, headers in CASES:
        print(f"| {name} | {await _per_call(wrap(_noop), headers) - bare:.3f} |")


if __name__ == "__main__":
    asyncio.run(_main())
