"""Legacy HTTP+SSE upstreams (``transport: sse``, 2024-11-05 transports §HTTP with SSE) behind Portico.

The upstream is the SDK fixture server run with the SDK's own SSE transport; its ``endpoint``
event is varied (path, relative reference, absolute URL, another origin) by a thin wrapper.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp.shared.exceptions import MCPError

from proxy.backends.auto import AutoBackend
from proxy.backends.base import Backend
from proxy.policy.guard import PolicyGuard
from proxy.upstream.sse_connection import resolve_endpoint
from proxy.wire.errors import UPSTREAM_AUTH_FAILED, UPSTREAM_FAILED, UPSTREAM_UNAVAILABLE
from tests.integration.proxy.gateway.harness import (
    FIXTURES,
    fixture_http_server,
    free_port,
    initialize_body,
    leaf_error,
    serve_portico,
    wait_for_port,
)

pytestmark = pytest.mark.anyio
SSE_SERVER = FIXTURES / "sse_fixture_server.py"
MODES = ["legacy", "auto"]


@contextmanager
def sse_server(mode: str, require_header: str | None = None) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The SDK fixture server over legacy SSE in its own process; yields its ``/sse`` URL and the process."""
    port = free_port()
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    if require_header is not None:
        env["REQUIRE_HEADER"] = require_header
    process = subprocess.Popen(
        [sys.executable, str(SSE_SERVER), str(port), mode],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}/sse", process
    finally:
        process.terminate()
        process.wait(timeout=10)


def sse_config(url: str, **extra: object) -> dict[str, object]:
    return {"transport": "sse", "url": url, **extra}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("/messages/?session_id=1", "http://up:8/messages/?session_id=1"),
        ("messages/?session_id=1", "http://up:8/a/messages/?session_id=1"),
        ("http://UP:8/m?x", "http://UP:8/m?x"),
    ],
)
def test_endpoint_is_resolved_against_the_sse_url(data: str, expected: str) -> None:
    """Spec-mandated (2024-11-05 §HTTP with SSE: the endpoint is a URI); RFC 3986 §5 resolution."""
    assert resolve_endpoint("http://up:8/a/sse", data) == expected


@pytest.mark.parametrize("data", ["http://other:8/m", "https://up:8/m", "//other/m", "http://up:9/m", " "])
def test_endpoint_on_another_origin_is_refused(data: str) -> None:
    """Our choice: the credential configured for the server must never be sent to another origin."""
    with pytest.raises(Exception, match="another origin"):
        resolve_endpoint("http://up:8/a/sse", data)


@pytest.mark.parametrize("endpoint_mode", ["path", "relative", "absolute"])
@pytest.mark.parametrize("mode", MODES)
async def test_sdk_client_reaches_an_sse_upstream(tmp_path: Path, endpoint_mode: str, mode: str) -> None:
    """Both client eras reach a 2024-11-05 SSE server through /<name>/mcp, whatever form its endpoint takes."""
    received: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        received.append(progress)

    with sse_server(endpoint_mode) as (url, _process):
        async with serve_portico(tmp_path, {"up": sse_config(url)}) as portico:
            async with portico.client("up", mode=mode) as client:
                version = client.protocol_version
                tools = await client.list_tools()
                echoed = await client.call_tool("echo", {"text": "hi"})
                with anyio.fail_after(20):
                    await client.call_tool("progress", {"steps": 2, "delay": 0.01}, progress_callback=on_progress)
                content = await client.read_resource("fixture://greeting")
            live = portico.gateway.pool.live()
    # The SDK server answers server/discover on any transport, so an auto client stays at 2026-07-28.
    assert version == ("2026-07-28" if mode == "auto" else "2025-11-25")
    assert "echo" in {tool.name for tool in tools.tools}
    assert echoed.content[0].text == "hi"  # type: ignore[union-attr]
    assert received == [1, 2]
    assert content.contents[0].text == "hello from the fixture"  # type: ignore[union-attr]
    assert len(live) == 1


async def test_two_client_sessions_of_one_user_share_one_upstream_connection(tmp_path: Path) -> None:
    """Our choice (ADR 0003 §2): one upstream session per (user, server), initialized once."""
    with sse_server("path") as (url, _process):
        async with serve_portico(tmp_path, {"up": sse_config(url)}) as portico:
            async with portico.client("up", mode="legacy") as first, portico.client("up", mode="legacy") as second:
                one = await first.call_tool("echo", {"text": "1"})
                two = await second.call_tool("echo", {"text": "2"})
                connections = {id(u.connection) for u in portico.gateway.pool.live()}
    assert (one.content[0].text, two.content[0].text) == ("1", "2")  # type: ignore[union-attr]
    assert len(connections) == 1


async def test_endpoint_on_another_origin_fails_the_request_as_unavailable(tmp_path: Path) -> None:
    """Our choice: a foreign endpoint is refused; the client gets -32003, not a hang."""
    with sse_server("foreign") as (url, _process):
        async with serve_portico(tmp_path, {"up": sse_config(url)}) as portico, httpx2.AsyncClient() as http:
            response = await http.post(portico.url("up"), json=initialize_body(), headers=portico.headers("up"))
    assert response.status_code == 502
    assert response.json()["error"]["code"] == UPSTREAM_UNAVAILABLE


async def test_configured_headers_reach_the_sse_upstream(tmp_path: Path) -> None:
    """The UpstreamCredentials seam: servers.<name>.headers go on the GET and on every POST."""
    with sse_server("path", require_header="x-api-key:s3cret") as (url, _process):
        servers = {"good": sse_config(url, headers={"x-api-key": "s3cret"}), "bad": sse_config(url)}
        async with serve_portico(tmp_path, servers) as portico, httpx2.AsyncClient() as http:
            async with portico.client("good", mode="legacy") as client:
                echoed = await client.call_tool("echo", {"text": "ok"})
            refused = await http.post(portico.url("bad"), json=initialize_body(), headers=portico.headers("bad"))
    assert echoed.content[0].text == "ok"  # type: ignore[union-attr]
    assert (refused.status_code, refused.json()["error"]["code"]) == (502, UPSTREAM_AUTH_FAILED)


async def test_upstream_death_fails_in_flight_requests_and_the_next_request_reconnects(tmp_path: Path) -> None:
    """Our choice (like stdio): a lost stream ends in-flight requests with -32004; the next one reconnects."""
    with sse_server("path") as (url, _process):
        async with serve_portico(tmp_path, {"up": sse_config(url)}) as portico:
            async with portico.client("up", mode="legacy") as client:
                with pytest.raises(BaseException) as failure:  # noqa: B017, PT011 - the SDK wraps in groups
                    with anyio.fail_after(20):
                        await client.call_tool("crash", {"after": 0.1})
                error = leaf_error(failure.value)
                assert isinstance(error, MCPError)
                assert error.error.code == UPSTREAM_FAILED


async def test_next_request_after_an_upstream_restart_reconnects(tmp_path: Path) -> None:
    """Our choice: the next request after the stream ended opens a new upstream session and re-initializes."""
    with sse_server("path") as (url, process):
        port = int(url.split(":")[2].split("/")[0])
        async with serve_portico(tmp_path, {"up": sse_config(url)}) as portico:
            async with portico.client("up", mode="legacy") as client:
                assert (await client.call_tool("echo", {"text": "a"})).content[0].text == "a"  # type: ignore[union-attr]
                process.terminate()
                process.wait(timeout=10)
                with anyio.fail_after(10):
                    while portico.gateway.pool.live():  # noqa: ASYNC110 - the reader drops the connection
                        await anyio.sleep(0.02)
                with sse_server_on(port) as _again:
                    echoed = await client.call_tool("echo", {"text": "b"})
    assert echoed.content[0].text == "b"  # type: ignore[union-attr]


@contextmanager
def sse_server_on(port: int) -> Iterator[subprocess.Popen[bytes]]:
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    process = subprocess.Popen(
        [sys.executable, str(SSE_SERVER), str(port), "path"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)


# --- transport: auto --------------------------------------------------------------------------------


async def test_auto_falls_back_to_sse_when_the_probe_gets_a_4xx(tmp_path: Path) -> None:
    """Spec (2025-11-25 transports §Backwards Compatibility): a 4xx to POST initialize means legacy SSE."""
    with sse_server("path") as (url, _process):
        async with serve_portico(tmp_path, {"up": {"transport": "auto", "url": url}}) as portico:
            async with portico.client("up", mode="legacy") as client:
                echoed = await client.call_tool("echo", {"text": "auto"})
            async with portico.client("up", mode="legacy") as client:
                again = await client.call_tool("echo", {"text": "remembered"})
            backend = _transport_backend(portico.gateway.backends["up"])
    assert echoed.content[0].text == "auto"  # type: ignore[union-attr]
    assert again.content[0].text == "remembered"  # type: ignore[union-attr]
    assert isinstance(backend, AutoBackend)
    assert backend.chosen == "sse"


@pytest.mark.parametrize("mode", MODES)
async def test_auto_uses_streamable_http_when_the_probe_succeeds(tmp_path: Path, mode: str) -> None:
    """Spec (same section): a 2xx to the initialize probe means Streamable HTTP."""
    with fixture_http_server() as url:
        async with serve_portico(tmp_path, {"up": {"transport": "auto", "url": url}}) as portico:
            async with portico.client("up", mode=mode) as client:
                echoed = await client.call_tool("echo", {"text": "auto"})
            backend = _transport_backend(portico.gateway.backends["up"])
    assert echoed.content[0].text == "auto"  # type: ignore[union-attr]
    assert isinstance(backend, AutoBackend)
    assert backend.chosen == "streamable-http"


def _transport_backend(backend: Backend) -> Backend:
    """The transport's own backend below the policy guard (pinning's default ``warn`` installs one)."""
    return backend.inner if isinstance(backend, PolicyGuard) else backend
