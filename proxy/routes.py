"""The data plane's routes for every configured server: ``/<name>/mcp`` (Streamable HTTP) and
``/<name>/sse`` + ``/<name>/sse/messages`` (legacy HTTP+SSE, :mod:`proxy.inbound.legacy_sse`).

:func:`include_gateway` is the single call ``create_app`` needs: it builds the
:class:`~proxy.gateway.Gateway`, registers the routes (pure-ASGI endpoints: no FastAPI body
parsing, no response buffering) and ties the gateway's lifetime to the app's lifespan; the
composition root hands the returned gateway to whoever else needs it (``app.main``).
``/<name>/mcp/…`` (a trailing slash included) is answered 404 rather than redirected, because
each route is an exact resource identifier (RFC 8707 §2) and a redirected POST would lose its body.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import APIRouter, FastAPI
from starlette.routing import Route

from oauth.tokens.context import TokenContext
from proxy.gateway import Gateway
from proxy.inbound.endpoint import McpEndpoint, NotAnEndpoint
from proxy.inbound.legacy_sse import LegacySseEndpoint, LegacySseSessions
from proxy.inbound.open_exchanges import OpenExchanges
from proxy.inbound.origin import OriginPolicy
from proxy.pinning import PinningGate, pinned_servers


def include_gateway(app: FastAPI, runtime: TokenContext, exchanges: OpenExchanges) -> Gateway:
    """``exchanges``: the registry of open exchanges the routes fill (its token watch runs in the lifespan)."""
    pinned = pinned_servers(runtime.config)
    tool_gate = PinningGate(pinned, runtime.db, clock=runtime.clock) if pinned else None
    gateway = Gateway(runtime, tool_gate=tool_gate)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with gateway.running(), anyio.create_task_group() as group:
            group.start_soon(exchanges.watch_tokens, runtime.revoked_tokens, lambda: runtime.clock.now().timestamp())
            if tool_gate is not None:
                await tool_gate.start()
                group.start_soon(tool_gate.poll_forever)
            try:
                yield
            finally:
                group.cancel_scope.cancel()

    origins = OriginPolicy(runtime.config.public_url, runtime.config.gateway.allowed_origins)
    legacy = LegacySseSessions()
    stream = LegacySseEndpoint(gateway, origins=origins, sessions=legacy, messages=False, exchanges=exchanges)
    messages = LegacySseEndpoint(gateway, origins=origins, sessions=legacy, messages=True, exchanges=exchanges)
    router = APIRouter(lifespan=lifespan)
    router.routes.append(Route("/{server}/mcp", endpoint=McpEndpoint(gateway, origins, exchanges), name="mcp"))
    router.routes.append(Route("/{server}/sse", endpoint=stream, name="sse"))
    router.routes.append(Route("/{server}/sse/messages", endpoint=messages, name="sse-messages"))
    # Exact paths only: a trailing slash is a 404, never a redirect (a redirected POST loses its body).
    router.routes.append(Route("/{server}/mcp/{rest:path}", endpoint=NotAnEndpoint(), name="mcp-below"))
    app.include_router(router)
    return gateway
