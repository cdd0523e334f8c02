"""A stdio child process as Portico runs it: framing, stderr, and stopping a stubborn process group."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import anyio
import pytest

from proxy.stdio.environment import child_environment
from proxy.stdio.process import StdioConnection
from proxy.wire.errors import UpstreamFailedError, UpstreamUnavailableError

pytestmark = pytest.mark.anyio


async def start(script: str, *, max_message_bytes: int = 1_000_000, kill_grace: float = 0.3) -> StdioConnection:
    return await StdioConnection.start(
        command="sh",
        args=["-c", script],
        env=child_environment({}),
        cwd=None,
        label="test[1]",
        max_message_bytes=max_message_bytes,
        kill_grace=kill_grace,
    )


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


async def test_json_lines_are_delivered_other_stdout_is_ignored_and_stderr_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Spec (stdio transport): stdout carries only messages; stderr is free-form logging."""
    caplog.set_level(logging.INFO, logger="portico.proxy.stdio")
    connection = await start('echo "not json"; echo \'{"jsonrpc":"2.0","method":"x"}\'; echo oops-on-stderr >&2')
    received: list[object] = []
    with anyio.fail_after(5):
        ending = await connection.run(received.append)
    assert received == [{"jsonrpc": "2.0", "method": "x"}]
    assert ending == "exited with code 0"
    assert any("oops-on-stderr" in record.getMessage() for record in caplog.records)


async def test_a_line_over_the_size_bound_stops_the_process() -> None:
    """Our choice (gateway.max_message_bytes): a runaway line cannot grow memory without bound."""
    connection = await start("head -c 5000 /dev/zero | tr '\\0' x; sleep 30", max_message_bytes=1000)
    with anyio.fail_after(10):
        await connection.run(lambda _message: None)
    assert connection.process.returncode is not None


async def test_a_process_ignoring_sigterm_is_killed_with_its_whole_group(tmp_path: Path) -> None:
    """Our choice (stdio transport §Shutdown, hardened): close stdin, SIGTERM, then SIGKILL the group."""
    pids = tmp_path / "pids"
    connection = await start(f"trap '' TERM; sleep 60 & echo $$ $! > {pids}; wait")
    with anyio.fail_after(5):
        while not pids.exists() or not pids.read_text().strip():  # noqa: ASYNC110 - the child writes it
            await anyio.sleep(0.02)
    shell, grandchild = (int(p) for p in pids.read_text().split())
    with anyio.fail_after(5):
        await connection.aclose()
        while alive(grandchild):  # noqa: ASYNC110
            await anyio.sleep(0.02)
    assert not alive(shell)
    with pytest.raises(UpstreamFailedError):
        await connection.send({"jsonrpc": "2.0", "method": "x"})


async def test_a_missing_command_is_reported_as_unavailable() -> None:
    with pytest.raises(UpstreamUnavailableError, match="could not be started"):
        await StdioConnection.start(
            command="no-such-mcp-server",
            args=[],
            env=child_environment({}),
            cwd=None,
            label="test[1]",
            max_message_bytes=1000,
            kill_grace=0.1,
        )


async def test_concurrent_sends_arrive_as_whole_lines_even_through_a_full_pipe() -> None:
    """Messages larger than the pipe's buffer, sent at once by many tasks, never interleave."""
    connection = await start("cat")
    padding = "p" * 100_000
    received: list[object] = []

    async def send(n: int) -> None:
        await connection.send({"jsonrpc": "2.0", "method": "x", "params": {"n": n, "pad": padding}})

    async with anyio.create_task_group() as group:
        group.start_soon(connection.run, received.append)
        with anyio.fail_after(10):
            async with anyio.create_task_group() as senders:
                for n in range(20):
                    senders.start_soon(send, n)
            while len(received) < 20:  # noqa: ASYNC110 - the reader fills it
                await anyio.sleep(0.01)
        await connection.aclose()
    assert sorted(m["params"]["n"] for m in received if isinstance(m, dict)) == list(range(20))


async def test_a_send_to_a_process_that_exited_fails_as_an_upstream_failure() -> None:
    connection = await start("exit 0")
    with anyio.fail_after(5):
        await connection.process.wait()
        with pytest.raises(UpstreamFailedError):
            for _ in range(100):  # the broken pipe surfaces on a write or on its drain
                await connection.send({"jsonrpc": "2.0", "method": "x", "params": {"pad": "p" * 100_000}})
    await connection.aclose()
