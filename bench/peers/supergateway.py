"""``supergateway`` (npm) stdio→Streamable HTTP in front of the stdio echo, run by the suite's Node 22.

``--stateful`` keeps one stdio child per client session; its default (stateless) mode starts a
new child for every request, which measures process start-up, not the gateway.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.peers.install import node, npm_prefix
from bench.peers.peer import Front, Peer, Upstream, launch

PACKAGE = "supergateway@4.0.0"


def command(prefix: Path, upstream: Upstream, port: int) -> list[str]:
    """The supergateway command line serving ``/mcp`` on ``port`` in front of the stdio echo."""
    script = prefix / "node_modules" / "supergateway" / "dist" / "index.js"
    return [
        str(node()),
        str(script),
        "--stdio",
        shlex.join(upstream.stdio_command),
        "--outputTransport",
        "streamableHttp",
        "--stateful",
        "--port",
        str(port),
        "--logLevel",
        "none",
    ]


@contextmanager
def start(upstream: Upstream, work: Path) -> Iterator[Front]:
    from bench.run import free_port

    node()  # fail early, before the install, when Node 22 is missing
    prefix = npm_prefix("supergateway", PACKAGE)
    port = free_port()
    with launch(command(prefix, upstream, port), port, work) as process:
        yield Front(f"http://127.0.0.1:{port}/mcp", [process.pid])


SUPERGATEWAY = Peer(
    "supergateway",
    PACKAGE,
    "stdio",
    "`supergateway --stdio <stdio echo> --outputTransport streamableHttp --stateful` (one child per session)",
    start,
)
