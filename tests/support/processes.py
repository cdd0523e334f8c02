"""Start a server subprocess on 127.0.0.1, wait (bounded) until it answers, and kill its whole process group after.

    port = free_port()
    with start_process([node, "server.js", str(port)], port=port, ready_url=f"http://127.0.0.1:{port}/health") as proc:
        ...  # proc.base_url, proc.stderr_text()

stdout and stderr go to files (``proc.stdout_path``, ``proc.stderr_path``); when startup fails, or the ``with`` body
raises, the tail of stderr is included in the error or printed to stderr (which pytest shows for a failing test).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

HOST = "127.0.0.1"
POLL_INTERVAL = 0.05
STDERR_TAIL_LINES = 40


class ProcessStartError(RuntimeError):
    """The process exited or did not answer in time; the message ends with the tail of its stderr."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Process:
    """A running subprocess started by :func:`start_process`."""

    name: str
    argv: list[str]
    port: int
    popen: subprocess.Popen[bytes]
    log_dir: Path

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def stdout_path(self) -> Path:
        return self.log_dir / "stdout.log"

    @property
    def stderr_path(self) -> Path:
        return self.log_dir / "stderr.log"

    def stdout_text(self) -> str:
        return _read(self.stdout_path)

    def stderr_text(self) -> str:
        return _read(self.stderr_path)

    def stderr_tail(self, lines: int = STDERR_TAIL_LINES) -> str:
        return "\n".join(self.stderr_text().splitlines()[-lines:])


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""


def port_answers(port: int, host: str = HOST) -> bool:
    """True when a TCP connection to ``host:port`` is accepted."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def url_answers(url: str) -> bool:
    """True when a GET of an ``http://`` URL gets any response below 500."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"only http:// URLs can be polled: {url}")
    connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=2)
    try:
        connection.request("GET", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
        return connection.getresponse().status < 500
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


@contextlib.contextmanager
def start_process(
    argv: Sequence[str | os.PathLike[str]],
    *,
    port: int,
    ready_url: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = 30.0,
    name: str | None = None,
) -> Iterator[Process]:
    """Run ``argv`` in its own process group and yield once it answers.

    Ready means: ``ready_url`` answers an HTTP GET (status < 500), or, without ``ready_url``, ``127.0.0.1:port``
    accepts a TCP connection. ``env`` is added to (not substituted for) this process's environment.
    Raises :class:`ProcessStartError` if the process exits first or ``timeout`` seconds pass.
    """
    args = [os.fspath(arg) for arg in argv]
    label = name or Path(args[0]).name
    log_dir = Path(tempfile.mkdtemp(prefix=f"portico-{label}-"))
    full_env = {**os.environ, **(env or {})}
    with (log_dir / "stdout.log").open("wb") as stdout, (log_dir / "stderr.log").open("wb") as stderr:
        popen = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            env=full_env,
            cwd=cwd,
            start_new_session=True,
        )
    process = Process(name=label, argv=args, port=port, popen=popen, log_dir=log_dir)
    try:
        _wait_until_ready(process, ready_url, timeout)
        try:
            yield process
        except BaseException as error:
            tail = process.stderr_tail()
            if tail and not isinstance(error, pytest.skip.Exception | GeneratorExit):
                print(f"---- {label} stderr (last {STDERR_TAIL_LINES} lines) ----\n{tail}", file=sys.stderr)
            raise
    finally:
        stop_process_group(popen)
        shutil.rmtree(log_dir, ignore_errors=True)


def _wait_until_ready(process: Process, ready_url: str | None, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    what = ready_url or f"{HOST}:{process.port}"
    while True:
        code = process.popen.poll()
        if code is not None:
            raise ProcessStartError(
                f"{process.name} exited with code {code} before {what} answered; stderr:\n{process.stderr_tail()}"
            )
        if url_answers(ready_url) if ready_url else port_answers(process.port):
            return
        if time.monotonic() > deadline:
            raise ProcessStartError(
                f"{process.name} did not answer at {what} within {timeout:g} s; stderr:\n{process.stderr_tail()}"
            )
        time.sleep(POLL_INTERVAL)


def stop_process_group(popen: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """SIGTERM the process group led by ``popen``, SIGKILL it after ``grace`` seconds, and reap the leader."""
    _signal_group(popen.pid, signal.SIGTERM)
    try:
        popen.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        _signal_group(popen.pid, signal.SIGKILL)
        popen.wait(timeout=grace)
    # Children that ignored SIGTERM or outlived the leader.
    _signal_group(popen.pid, signal.SIGKILL)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
