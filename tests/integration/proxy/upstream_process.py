"""The restart fixture server (tests/fixtures/restart_fixture_server.py) as a process a test stops and restarts."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio

from tests.integration.proxy.gateway.harness import FIXTURES, free_port, wait_for_port

RESTART_SERVER = FIXTURES / "restart_fixture_server.py"


class RestartableUpstream:
    """One port, one events file; :meth:`stop` kills the process, :meth:`start` runs a new one there."""

    def __init__(self, events: Path) -> None:
        self.port = free_port()
        self.events = events
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def start(self) -> None:
        env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
        argv = [sys.executable, str(RESTART_SERVER), str(self.port), str(self.events)]
        self._process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, self._process)

    def stop(self) -> None:
        """SIGKILL: a crash, nothing said to anyone (the worst case for the sessions it held)."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            self._process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def lines(self) -> list[str]:
        return self.events.read_text().splitlines() if self.events.exists() else []

    async def wait_for_line(self, line: str, *, count: int = 1) -> None:
        """Until ``line`` has been recorded ``count`` times (the upstream's own record, polled; 10 s at most)."""
        with anyio.fail_after(10):
            while self.lines().count(line) < count:  # noqa: ASYNC110 - another process writes the file
                await anyio.sleep(0.05)


@contextmanager
def restartable_upstream(tmp_path: Path) -> Iterator[RestartableUpstream]:
    upstream = RestartableUpstream(tmp_path / "upstream-events.log")
    upstream.start()
    try:
        yield upstream
    finally:
        upstream.stop()
