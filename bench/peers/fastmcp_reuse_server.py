"""``python fastmcp_reuse_server.py UPSTREAM_URL PORT``, run by the fastmcp peer's own venv.

FastMCP's proxy over one connected ``Client``: FastMCP reuses that client's upstream session for
every request (its documented opt-in), instead of opening one per call. Imports only fastmcp.
"""

import asyncio
import sys

from fastmcp import Client
from fastmcp.server import create_proxy


async def main(upstream: str, port: int) -> None:
    async with Client(upstream) as client:
        proxy = create_proxy(client)
        await proxy.run_http_async(host="127.0.0.1", port=port, show_banner=False, log_level="error")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
