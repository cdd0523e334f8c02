"""FastMCP's proxy (PyPI ``fastmcp``) in front of the raw HTTP echo, two ways.

``fastmcp``: ``fastmcp run <upstream url> --transport http``, the documented CLI proxy. Its
default client factory opens a new upstream session for every call.
``fastmcp-reuse``: FastMCP's ``create_proxy`` given an already-connected ``Client`` (see
``fastmcp_reuse_server.py``), which FastMCP documents as reusing one upstream session for all
requests: the fairest FastMCP data plane.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.peers.install import python_env
from bench.peers.peer import Front, Peer, Upstream, launch

REQUIREMENT = "fastmcp==4.1.2"  # 4.1.3+ need a certifi newer than the registry serves here
REUSE_SERVER = Path(__file__).with_name("fastmcp_reuse_server.py")


def _port() -> int:
    from bench.run import free_port

    return free_port()


@contextmanager
def start_cli(upstream: Upstream, work: Path) -> Iterator[Front]:
    venv = python_env("fastmcp", REQUIREMENT)
    port = _port()
    args = [str(venv / "bin" / "fastmcp"), "run", upstream.http_url, "--transport", "http"]
    args += ["--host", "127.0.0.1", "--port", str(port), "--no-banner", "--log-level", "ERROR"]
    with launch(args, port, work) as process:
        yield Front(f"http://127.0.0.1:{port}/mcp", [process.pid, upstream.http_pid])


@contextmanager
def start_reuse(upstream: Upstream, work: Path) -> Iterator[Front]:
    venv = python_env("fastmcp", REQUIREMENT)
    port = _port()
    args = [str(venv / "bin" / "python"), str(REUSE_SERVER), upstream.http_url, str(port)]
    with launch(args, port, work) as process:
        yield Front(f"http://127.0.0.1:{port}/mcp", [process.pid, upstream.http_pid])


FASTMCP = Peer(
    "fastmcp",
    REQUIREMENT,
    "http",
    "`fastmcp run <echo url> --transport http` (CLI proxy; a new upstream session per call)",
    start_cli,
)
FASTMCP_REUSE = Peer(
    "fastmcp-reuse",
    REQUIREMENT,
    "http",
    "`create_proxy(<connected Client>)` served by `run_http_async` (one upstream session reused)",
    start_reuse,
)
