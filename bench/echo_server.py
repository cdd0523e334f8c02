"""A minimal JSON-RPC MCP echo server: the fastest upstream the harness can put behind Portico.

``python echo_server.py http PORT`` serves raw ASGI on uvicorn (uvloop, httptools) at any path;
``python echo_server.py stdio`` speaks newline-delimited JSON-RPC on stdin/stdout. Both answer
``initialize`` (any revision; HTTP hands out an ``Mcp-Session-Id``), ``server/discover``
(2026-07-28), ``tools/list`` and ``tools/call`` of ``echo`` (returns ``arguments.text``). A GET
opens an idle SSE stream (for the memory case). Imports nothing from Portico.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from typing import Any

MODERN = "2026-07-28"
TOOL = {
    "name": "echo",
    "description": "Return the text unchanged.",
    "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
}
TOOL_COUNT = int(os.environ.get("BENCH_TOOLS", "1"))


def answer(message: dict[str, Any]) -> dict[str, Any] | None:
    """The response to one JSON-RPC message, or None for a notification/response."""
    if "id" not in message or "method" not in message:
        return None
    method, params = message["method"], message.get("params") or {}
    modern = (params.get("_meta") or {}).get("io.modelcontextprotocol/protocolVersion") == MODERN
    result: dict[str, Any]
    if method == "initialize":
        result = {
            "protocolVersion": params.get("protocolVersion", "2025-11-25"),
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "bench-echo", "version": "1"},
        }
    elif method == "server/discover":
        result = {
            "supportedVersions": [MODERN, "2025-11-25"],
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "bench-echo", "version": "1"},
        }
    elif method == "tools/list":
        tools = [TOOL] + [{**TOOL, "name": f"echo{i}"} for i in range(1, TOOL_COUNT)]
        result = {"tools": tools}
        if modern:  # 2026-07-28 list results carry their cache hints (SDK clients reject them without)
            result.update(ttlMs=0, cacheScope="private")
    elif method == "tools/call":
        text = (params.get("arguments") or {}).get("text", "")
        result = {"content": [{"type": "text", "text": text}], "isError": False}
    elif method == "ping":
        result = {}
    else:
        return {"jsonrpc": "2.0", "id": message["id"], "error": {"code": -32601, "message": "Method not found"}}
    if modern and method != "server/discover":
        result["resultType"] = "complete"
    return {"jsonrpc": "2.0", "id": message["id"], "result": result}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            event = await receive()
            if event["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif event["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    method = scope["method"]
    if method == "GET":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
        await send({"type": "http.response.body", "body": b": open\n\n", "more_body": True})
        while (await receive())["type"] != "http.disconnect":
            pass
        return
    if method == "DELETE":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    body = b""
    more = True
    while more:
        event = await receive()
        body += event.get("body", b"")
        more = event.get("more_body", False)
    message = json.loads(body)
    response = answer(message)
    if response is None:
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    payload = json.dumps(response, separators=(",", ":")).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    if message.get("method") == "initialize":
        headers.append((b"mcp-session-id", uuid.uuid4().hex.encode()))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def serve_stdio() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 24)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    out = sys.stdout.buffer
    while line := await reader.readline():
        try:
            message = json.loads(line)
        except ValueError:
            continue
        response = answer(message)
        if response is not None:
            out.write(json.dumps(response, separators=(",", ":")).encode() + b"\n")
            out.flush()


def main() -> None:
    if sys.argv[1] == "stdio":
        try:
            import uvloop

            uvloop.run(serve_stdio())
        except ImportError:
            asyncio.run(serve_stdio())
        return
    import uvicorn

    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(sys.argv[2]),
        loop="uvloop",
        http="httptools",
        log_level="warning",
        lifespan="on",
    )


if __name__ == "__main__":
    main()
