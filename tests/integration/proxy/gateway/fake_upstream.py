"""A scriptable Streamable HTTP "upstream" for what a real server will not do on demand.

It records every request's headers and answers by method: ``initialize`` with a session id of
its own, ``tools/call`` of ``die`` with one SSE event and then a broken connection, ``deny``
with 401 and a ``WWW-Authenticate`` challenge, ``fail`` with a plain-text 500, ``hop`` with a JSON result
carrying hop-by-hop and repeated headers, anything else with an empty result.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio
import uvicorn
from starlette.types import Receive, Scope, Send

from tests.integration.proxy.gateway.harness import free_port

UPSTREAM_SESSION_ID = "upstream-session-0123456789"
HOP_HEADERS = [
    (b"keep-alive", b"timeout=5"),
    (b"proxy-connection", b"keep-alive"),
    (b"upgrade", b"h2c"),
    (b"cache-control", b"no-store"),
    (b"cache-control", b"private"),
    (b"content-type", b"application/json"),
]


@dataclass
class FakeUpstream:
    url: str = ""
    seen: list[dict[str, str]] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.seen.append({"method": scope["method"], **headers})
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        request = json.loads(body) if body else {}
        name = (request.get("params") or {}).get("name")
        if request.get("method") == "server/discover":  # a 2026-07-28 server: requests are relayed, not bridged
            await _json(send, 200, _result(request, {"supportedVersions": ["2026-07-28"], "capabilities": {}}), False)
        elif request.get("method") == "initialize":
            await _json(send, 200, _result(request, {"protocolVersion": "2025-11-25", "capabilities": {}}), True)
        elif name == "deny":
            await _json(send, 401, {"error": "invalid_token"}, False, [(b"www-authenticate", b"Bearer realm=up")])
        elif name == "fail":
            await send({"type": "http.response.start", "status": 500, "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"upstream exploded"})
        elif name == "hop":
            await _json(send, 200, _result(request, {}), True, HOP_HEADERS)
        elif name == "die":
            await _die_mid_stream(send, request)
        elif "id" not in request:
            await send({"type": "http.response.start", "status": 202, "headers": []})
            await send({"type": "http.response.body", "body": b""})
        else:
            await _json(send, 200, _result(request, {}), True)


def _result(request: dict[str, object], result: dict[str, object]) -> dict[str, object]:
    return {"jsonrpc": "2.0", "id": request.get("id"), "result": result}


async def _json(
    send: Send, status: int, body: object, session: bool, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = [(b"content-type", b"application/json"), *(extra or [])]
    if session:
        headers.append((b"mcp-session-id", UPSTREAM_SESSION_ID.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})


async def _die_mid_stream(send: Send, request: dict[str, object]) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
    note = {"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "data": "about to die"}}
    await send(
        {
            "type": "http.response.body",
            "body": f"event: message\ndata: {json.dumps(note)}\n\n".encode(),
            "more_body": True,
        }
    )
    await anyio.sleep(0.2)
    raise RuntimeError("the fake upstream dies mid-stream")


@asynccontextmanager
async def serve_fake_upstream() -> AsyncIterator[FakeUpstream]:
    fake = FakeUpstream()
    port = free_port()
    fake.url = f"http://127.0.0.1:{port}/mcp"
    server = uvicorn.Server(uvicorn.Config(fake, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    async with anyio.create_task_group() as group:
        group.start_soon(server.serve)
        with anyio.fail_after(10):
            while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
                await anyio.sleep(0.02)
        try:
            yield fake
        finally:
            server.should_exit = True
