"""SIGTERM on a running ``portico serve`` (issue #14, finding 11; ADR 0012).

Real processes: Portico serving the SDK fixture server over stdio, raw HTTP clients holding an
idle GET stream, an idle legacy SSE stream and a slow ``tools/call``. Before the fix, idle
streams held the shutdown for uvicorn's fixed 10 s and were then cut with ERROR tracebacks.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import httpx2
import pytest

from tests.integration.proxy.gateway.harness import modern_body, modern_headers
from tests.integration.proxy.lifetime.streams import INITIALIZE, Stream, bearer, call, open_session, sleep_call
from tests.support.portico import mint_access_token, run_portico
from tests.support.processes import Process

pytestmark = pytest.mark.anyio
FIXTURE_SERVER = Path(__file__).resolve().parents[3] / "fixtures" / "mcp_fixture_server.py"
FIXTURE = {"transport": "stdio", "command": sys.executable, "args": [str(FIXTURE_SERVER), "stdio"]}


def serve(tmp_path: Path, grace: float) -> Any:
    return run_portico(tmp_path, {"listen": {"shutdown_grace": grace}, "servers": {"fixture": FIXTURE}})


async def wait_for_exit(process: Process, seconds: float) -> int:
    code: int = await anyio.to_thread.run_sync(lambda: process.popen.wait(timeout=seconds))
    return code


def assert_clean_log(process: Process) -> None:
    log = process.stderr_text()
    assert "Traceback" not in log, log
    assert " ERROR " not in log, log
    assert "shutdown: closed" in log


async def test_sigterm_ends_idle_streams_at_once_and_lets_a_call_finish(tmp_path: Path) -> None:
    """Our choice (ADR 0012): idle streams end cleanly at once; a call within the grace period finishes."""
    grace = 20.0
    with serve(tmp_path, grace) as process:
        base = process.base_url
        token = mint_access_token(tmp_path, f"{base}/fixture/mcp")
        sse_token = mint_access_token(tmp_path, f"{base}/fixture/sse")
        async with httpx2.AsyncClient(base_url=base, timeout=60) as http, anyio.create_task_group() as group:
            headers = await open_session(http, "/fixture/mcp", token)
            get_stream, legacy_stream = Stream(), Stream()
            group.start_soon(get_stream.read, http, "/fixture/mcp", headers)
            group.start_soon(legacy_stream.read, http, "/fixture/sse", bearer(sse_token, accept="text/event-stream"))
            await get_stream.opened.wait()
            await legacy_stream.opened.wait()
            assert (get_stream.status, legacy_stream.status) == (200, 200)
            answer: dict[str, Any] = {}

            async def slow_call() -> None:
                answer.update(await call(http, "/fixture/mcp", headers, sleep_call(7, 4.0, str(tmp_path / "m"))))
                answer["at"] = time.monotonic()

            group.start_soon(slow_call)
            await anyio.sleep(1.0)  # the call is in flight upstream
            process.popen.send_signal(signal.SIGTERM)
            code = await wait_for_exit(process, grace + 15)
        assert code in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once it has shut down
        assert get_stream.error is None and legacy_stream.error is None  # a clean end of each body
        assert "endpoint" in legacy_stream.text
        assert answer["result"]["content"][0]["text"] == "slept", answer
        assert get_stream.ended_at is not None and legacy_stream.ended_at is not None
        assert get_stream.ended_at < answer["at"] and legacy_stream.ended_at < answer["at"]
        assert (tmp_path / "m").read_text() == "finished"
        assert_clean_log(process)


async def test_a_call_longer_than_the_grace_period_gets_minus_32000_and_is_cancelled_upstream(tmp_path: Path) -> None:
    """Our choice (ADR 0012): -32000 "server shutting down" to the client, notifications/cancelled upstream.

    A handshake-era and a 2026-07-28 Streamable HTTP call (the answer to each POST) and a legacy SSE
    call (an event on the stream).
    """
    grace = 2.0
    marker, legacy_marker, modern_marker = tmp_path / "marker", tmp_path / "legacy-marker", tmp_path / "modern-marker"
    with serve(tmp_path, grace) as process:
        base = process.base_url
        token = mint_access_token(tmp_path, f"{base}/fixture/mcp")
        sse_token = mint_access_token(tmp_path, f"{base}/fixture/sse")
        async with httpx2.AsyncClient(base_url=base, timeout=60) as http, anyio.create_task_group() as group:
            headers = await open_session(http, "/fixture/mcp", token)
            answer: dict[str, Any] = {}

            async def long_call() -> None:
                answer.update(await call(http, "/fixture/mcp", headers, sleep_call(9, 120.0, str(marker))))

            async def long_modern_call() -> None:
                arguments = {"seconds": 120.0, "marker": str(modern_marker)}
                request = modern_body("tools/call", {"name": "sleep", "arguments": arguments}, request_id=10)
                modern_headers_ = {**modern_headers("tools/call", "sleep"), "authorization": f"Bearer {token}"}
                modern.update(await call(http, "/fixture/mcp", modern_headers_, request))

            modern: dict[str, Any] = {}
            group.start_soon(long_call)
            group.start_soon(long_modern_call)
            legacy = Stream()
            group.start_soon(legacy.read, http, "/fixture/sse", bearer(sse_token, accept="text/event-stream"))
            messages = await legacy_session(http, legacy, sse_token)
            posted = await http.post(
                messages, json=sleep_call(11, 120.0, str(legacy_marker)), headers=bearer(sse_token)
            )
            assert posted.status_code == 202
            await anyio.sleep(1.0)
            process.popen.send_signal(signal.SIGTERM)
            code = await wait_for_exit(process, grace * 3 + 15)
        assert code in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once it has shut down
        assert answer["id"] == 9
        assert answer["error"]["code"] == -32000
        assert answer["error"]["message"] == "server shutting down"
        assert (modern["id"], modern["error"]["code"]) == (10, -32000)
        assert legacy.error is None
        legacy_answers = [m for m in sse_messages(legacy.text) if m.get("id") == 11]
        assert [m["error"]["code"] for m in legacy_answers] == [-32000]  # once: the upstream's -32800 is dropped
        assert marker.read_text() == "cancelled"  # the fixture saw notifications/cancelled before it was stopped
        assert legacy_marker.read_text() == "cancelled"
        assert modern_marker.read_text() == "cancelled"
        assert_clean_log(process)
        assert "still running after listen.shutdown_grace" in process.stderr_text()


def sse_messages(text: str) -> list[dict[str, Any]]:
    return [json.loads(line[5:]) for line in text.splitlines() if line.startswith("data:") and "{" in line]


async def legacy_session(http: httpx2.AsyncClient, stream: Stream, token: str) -> str:
    """Initialize the legacy session of ``stream``; the message URL to POST to."""
    with anyio.fail_after(30):
        await stream.until(lambda text: "session_id=" in text)
        endpoint = next(line[5:].strip() for line in stream.text.splitlines() if "session_id=" in line)
        initialize = {**INITIALIZE, "params": {**INITIALIZE["params"], "protocolVersion": "2024-11-05"}}
        assert (await http.post(endpoint, json=initialize, headers=bearer(token))).status_code == 202
        await stream.until(lambda text: any(m.get("id") == 0 for m in sse_messages(text)))
    initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    assert (await http.post(endpoint, json=initialized, headers=bearer(token))).status_code == 202
    return endpoint
