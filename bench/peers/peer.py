"""What a peer module provides, and starting a peer's process.

A peer module defines one :class:`Peer`: its pinned package, which upstream it fronts (the raw
echo over Streamable HTTP, or the stdio echo where it can only front stdio), how it is run, and a
``start`` context manager that installs it on demand, starts it, and yields the :class:`Front`
the wrk client calls. Leaving the context stops it (SIGTERM to its process group, then SIGKILL).
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.peers.install import PeerUnavailableError

STOP_TIMEOUT_S = 10


@dataclass(frozen=True)
class Upstream:
    """The echo the Portico cells use: ``http_url`` (raw echo, Streamable HTTP) and the stdio command."""

    http_url: str
    http_pid: int
    stdio_command: list[str]


@dataclass(frozen=True)
class Front:
    """A started peer: the URL and bearer token wrk sends, the echo tool's name there, the CPU to count."""

    url: str
    pids: list[int]
    token: str = ""
    tool: str = "echo"


@dataclass(frozen=True)
class Peer:
    name: str
    package: str  # the pinned registry package, as installed
    upstream: str  # "http" or "stdio"
    mode: str  # how it is run, one line for the report
    start: Callable[[Upstream, Path], AbstractContextManager[Front]]  # (upstream, scratch dir)


def _wait_for_port(port: int, process: subprocess.Popen[bytes], deadline_s: float) -> None:
    from bench.run import wait_for_port

    wait_for_port(port, process, deadline_s)


@contextmanager
def launch(
    args: list[str], port: int, cwd: Path, env: dict[str, str] | None = None, deadline_s: float = 90.0
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``args`` in its own session until the ``with`` ends; wait for ``port`` to accept.

    Raises PeerUnavailableError (with the end of the process's output) when it exits or the port stays
    closed within ``deadline_s``.
    """
    log = tempfile.TemporaryFile()
    try:
        process = subprocess.Popen(args, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    except OSError as exc:
        log.close()
        raise PeerUnavailableError(f"cannot start {args[0]}: {exc}") from exc
    try:
        try:
            _wait_for_port(port, process, deadline_s)
        except RuntimeError as exc:
            log.seek(0)
            tail = [line.strip() for line in log.read().decode(errors="replace").splitlines() if line.strip()]
            raise PeerUnavailableError(f"{exc}; last output: {' '.join(tail[-2:])[:240]}") from exc
        yield process
    finally:
        stop(process)
        log.close()


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process group, then SIGKILL to whatever of it is left (children included)."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()
