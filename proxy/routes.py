"""The data plane's routes for every configured server: ``/<name>/mcp`` (Streamable HTTP) and
``/<name>/sse`` + ``/<name>/sse/messages`` (legacy HTTP+SSE, ``legacy_sse.py``).

:func:`include_gateway` is the single line ``create_app`` needs: it builds the
:class:`~proxy.gateway.Gateway`, registers the route (a pure-ASGI endpoint: no FastAPI body
parsing, no response buffering) and ties the gateway's lifetime to the app's lifespan. The
gateway is reachable as ``app.state.gateway``. ``/<name>/mcp/…`` (a trailing slash included) is
answered 404 rather than redirected, because each route is an exact RFC 8707 resource
identifier and a redirected POST would lose its body (reference §1.3).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from starlette.routing import Route

from app.runtime import Runtime
from proxy.gateway import Gateway
from proxy.inbound.endpoint import McpEndpoint, NotAnEndpoint
from proxy.inbound.legacy_sse import LegacySseEndpoint


def include_gateway(app: FastAPI, runtime: Runtime) -> Gateway:
    gateway = Gateway(runtime)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with gateway.running():
            yield

    router = APIRouter(lifespan=lifespan)
    router.routes.append(Route("/{server}/mcp", endpoint=McpEndpoint(gateway), name="mcp"))
    router.routes.append(Route("/{server}/sse", endpoint=LegacySseEndpoint(gateway, messages=False), name="sse"))
    router.routes.append(
        Route("/{server}/sse/messages", endpoint=LegacySseEndpoint(gateway, messages=True), name="sse-messages")
    )
    # Exact paths only: a trailing slash is a 404, never a redirect (a redirected POST loses its body).
    router.routes.append(Route("/{server}/mcp/{rest:path}", endpoint=NotAnEndpoint(), name="mcp-below"))
    app.state.gateway = gateway
    app.include_router(router)
    return gateway
