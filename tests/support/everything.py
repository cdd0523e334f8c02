"""``@modelcontextprotocol/server-everything`` (the reference TypeScript MCP server) for tests.

The package and its Node 22 come from ``tests/node`` (``make node-deps``); without them the calling test is
skipped (failed with ``PORTICO_REQUIRE_ALL=1``). The server binds every interface, so it always runs with a
preloaded script (``bind_loopback.cjs``) that pins ``listen`` to 127.0.0.1.

Modes: ``stdio``; ``sse`` (legacy HTTP+SSE, 2024-11-05: ``GET /sse``, endpoint event ``/message?sessionId=…``);
``streamableHttp`` (``/mcp``). It speaks up to 2025-11-25 and has elicitation and sampling tools.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.processes import free_port, start_process
from tests.support.requirements import require_node22, require_node_package

PRELOAD = Path(__file__).with_name("bind_loopback.cjs")


def everything_entry() -> Path:
    return require_node_package("@modelcontextprotocol/server-everything") / "dist" / "index.js"


def node() -> str:
    return str(require_node22())


def everything_stdio_config() -> dict[str, Any]:
    """A ``servers.<name>`` entry that runs server-everything over stdio."""
    return {
        "transport": "stdio",
        "command": node(),
        "args": ["--require", str(PRELOAD), str(everything_entry()), "stdio"],
    }


@contextmanager
def run_everything(mode: str, path: str) -> Iterator[str]:
    """server-everything in ``mode`` on a free loopback port; yields its URL ending in ``path`` (``/sse``, ``/mcp``)."""
    argv = [node(), "--require", str(PRELOAD), str(everything_entry()), mode]
    port = free_port()
    with start_process(argv, port=port, env={"PORT": str(port)}, name=f"server-everything-{mode}"):
        yield f"http://127.0.0.1:{port}{path}"
