"""The data plane's HTTP client towards Streamable HTTP upstreams — kept behind this one module.

One ``httpx2.AsyncClient`` for every upstream: pooled keep-alive connections (``gateway.http_*``),
no redirects (an upstream URL is configuration, not something to be moved by a 30x), no proxy or
netrc from the environment. Timeouts are per server and per phase — ``connect_timeout`` for
connecting and acquiring a pooled connection, ``read_timeout`` for the gap between two reads —
never one deadline for the whole exchange, so an SSE stream may last as long as it keeps talking.
A later benchmarking issue may swap the client; only this module would change.
"""

from __future__ import annotations

import httpx2

from app.config.schema import GatewayConfig, StreamableHttpServerConfig


def create_upstream_client(settings: GatewayConfig) -> httpx2.AsyncClient:
    limits = httpx2.Limits(
        max_connections=settings.http_max_connections,
        max_keepalive_connections=settings.http_max_keepalive_connections,
        keepalive_expiry=settings.http_keepalive_expiry,
    )
    return httpx2.AsyncClient(limits=limits, timeout=httpx2.Timeout(30.0), follow_redirects=False, trust_env=False)


def upstream_timeouts(server: StreamableHttpServerConfig) -> httpx2.Timeout:
    return httpx2.Timeout(
        connect=server.connect_timeout,
        pool=server.connect_timeout,
        write=server.connect_timeout,
        read=server.read_timeout,
    )
