"""Shared pieces of the enforcement tests: the policy, one upstream per transport, a client per transport/era."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Literal

from mcp import Client
from mcp.client.sse import sse_client

from tests.integration.proxy.gateway.harness import (
    FIXTURES,
    Portico,
    fixture_http_server,
    fixture_stdio_server,
    python_http_server,
)
from tests.integration.proxy.gateway.test_sse_upstream import sse_server

ClientKind = Literal["handshake", "modern", "legacy_sse"]
CLIENT_KINDS: tuple[ClientKind, ...] = ("handshake", "modern", "legacy_sse")
UPSTREAMS = ("stdio", "http", "sse", "modern-only")
"""stdio and Streamable HTTP speak both eras; the legacy SSE upstream only the handshake (a 2026-07-28
client is bridged to it); ``modern-only`` only 2026-07-28 (a handshake-era client is bridged to it)."""

POLICY: dict[str, Any] = {
    "default": "deny",
    "rules": [
        {"name": "admins", "groups": ["admins"], "effect": "allow", "servers": {"*": {}}},
        {
            "name": "everyone-reads",
            "everyone": True,
            "effect": "allow",
            "servers": {
                "*": {
                    "tools": ["echo"],
                    "resources": ["fixture://greeting", "fixture://notes/*"],
                    "prompts": ["greet"],
                }
            },
        },
    ],
}
VISIBLE_TOOLS = {"echo"}
VISIBLE_RESOURCES = {"fixture://greeting"}
VISIBLE_TEMPLATES = {"fixture://notes/{name}"}
VISIBLE_PROMPTS = {"greet"}


@contextmanager
def upstream_servers() -> Iterator[dict[str, Any]]:
    """One real upstream per transport, named as in :data:`UPSTREAMS`."""
    with (
        fixture_http_server() as http_url,
        sse_server("path") as (sse_url, _process),
        python_http_server(FIXTURES / "modern_http_server.py") as modern_url,
    ):
        yield {
            "stdio": fixture_stdio_server(),
            "http": {"transport": "streamable-http", "url": http_url},
            "sse": {"transport": "sse", "url": sse_url},
            "modern-only": {"transport": "streamable-http", "url": modern_url},
        }


@asynccontextmanager
async def connect(portico: Portico, server: str, kind: ClientKind, subject: str = "1") -> AsyncIterator[Client]:
    """The MCP SDK client over ``kind``: handshake-era or 2026-07-28 Streamable HTTP, or legacy HTTP+SSE."""
    if kind != "legacy_sse":
        async with portico.client(server, subject=subject, mode="legacy" if kind == "handshake" else "auto") as client:
            yield client
        return
    token = portico.token(server, subject, audience=portico.sse_url(server))
    transport = sse_client(portico.sse_url(server), headers={"authorization": f"Bearer {token}"}, timeout=30.0)
    async with Client(transport, mode="legacy") as client:
        yield client
