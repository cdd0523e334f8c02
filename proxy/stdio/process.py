"""One upstream MCP server process speaking MCP over stdio (2025-11-25 / 2026-07-28 transports/stdio).

Framing: one JSON-RPC message per line, UTF-8, no embedded newlines. Lines on stdout that are not
JSON are not forwarded (logged); stderr is free-form and drained line by line into Portico's log
(redacted like every record). The child runs in its own session and process group, so stopping
it reaches its children too: close stdin, wait, SIGTERM the group, wait, SIGKILL the group (stdio
transport §Shutdown).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import ByteReceiveStream, ByteSendStream, Process
from anyio.streams.buffered import BufferedByteReceiveStream

from proxy.stdio.environment import resolve_command
from proxy.wire.errors import UpstreamFailedError, UpstreamUnavailableError
from proxy.wire.jsonrpc import encode
from proxy.wire.limits import over_message_limit

log = logging.getLogger("portico.proxy.stdio")
_STDERR_LINE_BYTES = 8192


class StdioConnection:
    """A running child process; implements :class:`proxy.upstream.connection.MessageConnection`."""

    def __init__(self, process: Process, *, label: str, max_message_bytes: int, kill_grace: float) -> None:
        self.label = label
        self.process = process
        self._max_message_bytes = max_message_bytes
        self._kill_grace = kill_grace
        # fast_acquire: an uncontended write takes the lock without an extra trip through the event loop.
        self._write_lock = anyio.Lock(fast_acquire=True)
        self._closing = False
        self._batch: list[bytes] = []

    @classmethod
    async def start(
        cls,
        *,
        command: str,
        args: list[str],
        env: Mapping[str, str],
        cwd: Path | None,
        label: str,
        max_message_bytes: int,
        kill_grace: float,
    ) -> StdioConnection:
        """Spawn the child with exactly ``env`` as its environment.

        Raises:
            UpstreamUnavailableError: the command does not exist or cannot be started.
        """
        try:
            argv = [resolve_command(command, env.get("PATH", "")), *args]
            process = await anyio.open_process(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=dict(env),
                cwd=cwd,
                start_new_session=True,
            )
        except OSError as error:
            raise UpstreamUnavailableError(f"upstream server {label} could not be started: {error}") from error
        log.info("%s: started pid %s", label, process.pid)
        return cls(process, label=label, max_message_bytes=max_message_bytes, kill_grace=kill_grace)

    @property
    def pid(self) -> int:
        return self.process.pid

    async def send(self, message: dict[str, Any]) -> None:
        stdin = self.process.stdin
        if stdin is None or self._closing:
            raise UpstreamFailedError(f"upstream server {self.label} is not running")
        line = encode(message) + b"\n"
        try:
            if (writer := _asyncio_writer(stdin)) is not None:
                # Lines sent in the same event-loop pass go out in one write() at its end (one
                # syscall and one wake-up of the child for many concurrent requests); whole lines
                # in order, so no lock. drain() waits while the pipe's buffer is above its
                # high-water mark (backpressure).
                if not self._batch:
                    asyncio.get_running_loop().call_soon(self._flush, writer)
                self._batch.append(line)
                await writer.drain()
                return
            async with self._write_lock:
                await stdin.send(line)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError, RuntimeError) as error:
            raise UpstreamFailedError(f"upstream server {self.label} stopped accepting input") from error

    def _flush(self, writer: asyncio.StreamWriter) -> None:
        data = b"".join(self._batch)
        self._batch.clear()
        with contextlib.suppress(OSError, RuntimeError):  # a closed pipe: the reader reports the exit
            writer.write(data)

    async def run(self, on_message: Callable[[object], None]) -> str:
        """Read stdout until it closes; then make sure the process is gone and report its exit."""
        async with anyio.create_task_group() as group:
            if self.process.stderr is not None:
                group.start_soon(self._drain_stderr, self.process.stderr)
            oversize = None
            if self.process.stdout is not None:
                oversize = await self._read_stdout(self.process.stdout, on_message)
            with anyio.move_on_after(self._kill_grace):
                await self.process.wait()
            if self.process.returncode is None:
                await self.aclose()
            group.cancel_scope.cancel()
        if oversize is not None:
            return f"was stopped: {oversize}"
        return f"exited with code {self.process.returncode}"

    async def _read_stdout(self, stdout: ByteReceiveStream, on_message: Callable[[object], None]) -> str | None:
        """Hand every JSON line to ``on_message`` until stdout ends (None) or a line is too long (why)."""
        reader = BufferedByteReceiveStream(stdout)
        while True:
            try:
                line = await reader.receive_until(b"\n", self._max_message_bytes)
            except (anyio.IncompleteRead, anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
                return None
            except anyio.DelimiterNotFound:
                reason = over_message_limit("a message on stdout", self._max_message_bytes)
                log.error("%s: %s; stopping the process", self.label, reason)
                return reason
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError:
                log.warning("%s: non-JSON line on stdout ignored", self.label)
                continue
            on_message(value)

    async def _drain_stderr(self, stderr: ByteReceiveStream) -> None:
        reader = BufferedByteReceiveStream(stderr)
        with contextlib.suppress(anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
            while True:
                try:
                    line = await reader.receive_until(b"\n", _STDERR_LINE_BYTES)
                except anyio.DelimiterNotFound:
                    line = await reader.receive_exactly(_STDERR_LINE_BYTES)
                except anyio.IncompleteRead:
                    return
                log.info("%s stderr: %s", self.label, line.decode("utf-8", errors="replace").rstrip())

    async def aclose(self) -> None:
        """Close stdin, then SIGTERM and finally SIGKILL the process group, each after a grace period."""
        self._closing = True
        with anyio.CancelScope(shield=True):
            if self.process.stdin is not None:
                with contextlib.suppress(Exception):
                    await self.process.stdin.aclose()
            for sig in (None, signal.SIGTERM, signal.SIGKILL):
                if sig is not None:
                    self._signal_group(sig)
                with anyio.move_on_after(self._kill_grace):
                    await self.process.wait()
                if self.process.returncode is not None:
                    break
            self._signal_group(signal.SIGKILL)  # whatever the leader left behind in its group

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)


def _asyncio_writer(stdin: ByteSendStream) -> asyncio.StreamWriter | None:
    """The asyncio writer under anyio's pipe wrapper, if that is what ``stdin`` is.

    anyio's ``send`` adds two checkpoints per message (a cancellation check and a yield to the
    event loop, i.e. one more loop iteration per upstream request); the writer itself needs neither.
    """
    writer = getattr(stdin, "_stream", None)
    return writer if isinstance(writer, asyncio.StreamWriter) else None
