"""The official MCP SDK's server as a benchmark upstream: ``python sdk_echo_server.py PORT``.

One ``echo`` tool on ``MCPServer`` (mcp 2.3.0), Streamable HTTP at ``/mcp`` with sessions for
2025-11-25 and the stateless 2026-07-28 path, SSE answers (the SDK's default), served by uvicorn
with uvloop and httptools. A realistic upstream next to ``echo_server.py``'s raw minimum: the SDK
itself costs far more per call than Portico's hop. Imports nothing from Portico.
"""

from __future__ import annotations

import sys

import uvicorn
from mcp.server.mcpserver import MCPServer

server = MCPServer("bench-sdk-echo", log_level="WARNING")


@server.tool()
def echo(text: str) -> str:
    """Return the text unchanged."""
    return text


def main() -> None:
    port = int(sys.argv[1])
    app = server.streamable_http_app(host="127.0.0.1")
    uvicorn.run(app, host="127.0.0.1", port=port, loop="uvloop", http="httptools", log_level="warning")


if __name__ == "__main__":
    main()
