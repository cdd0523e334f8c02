"""``mcp-proxy`` (PyPI) in server mode: Streamable HTTP in front of the stdio echo.

It only fronts stdio servers (given a URL it runs the other way, stdio in front of a remote
server), so it runs one stdio echo child, stateful (one ``Mcp-Session-Id`` per client session).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.peers.install import python_env
from bench.peers.peer import Front, Peer, Upstream, launch

REQUIREMENT = "mcp-proxy==0.13.0"


@contextmanager
def start(upstream: Upstream, work: Path) -> Iterator[Front]:
    from bench.run import free_port

    venv = python_env("mcp-proxy", REQUIREMENT)
    port = free_port()
    args = [str(venv / "bin" / "mcp-proxy"), "--host", "127.0.0.1", "--port", str(port), "--log-level", "ERROR"]
    with launch([*args, "--", *upstream.stdio_command], port, work) as process:
        yield Front(f"http://127.0.0.1:{port}/mcp", [process.pid])


MCP_PROXY = Peer(
    "mcp-proxy",
    REQUIREMENT,
    "stdio",
    "`mcp-proxy --port P -- <stdio echo>` (server mode, stateful; it cannot front an HTTP upstream)",
    start,
)
