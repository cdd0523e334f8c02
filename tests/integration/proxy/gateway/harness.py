"""A real Portico (uvicorn, in the test's event loop) and real upstream MCP servers for gateway tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from app.clock import Clock, SystemClock
from app.config import PorticoConfig
from app.crypto import generate_secret
from app.main import create_app
from app.runtime import Runtime, build_runtime
from oauth.tokens.access_tokens import issue_access_token
from proxy.gateway import Gateway

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"
FIXTURE_SERVER = FIXTURES / "mcp_fixture_server.py"
LEGACY_SERVER = FIXTURES / "legacy_stdio_server.py"
LEGACY_HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def fixture_stdio_server(**extra: Any) -> dict[str, Any]:
    """Config for the SDK fixture server as a stdio upstream."""
    return {"transport": "stdio", "command": sys.executable, "args": [str(FIXTURE_SERVER), "stdio"], **extra}


def legacy_stdio_server(**extra: Any) -> dict[str, Any]:
    """Config for the wire-level, handshake-only fixture server as a stdio upstream."""
    return {"transport": "stdio", "command": sys.executable, "args": [str(LEGACY_SERVER)], **extra}


@dataclass
class Portico:
    base_url: str
    runtime: Runtime
    gateway: Gateway

    def url(self, server: str) -> str:
        return f"{self.base_url}/{server}/mcp"

    def sse_url(self, server: str) -> str:
        return f"{self.base_url}/{server}/sse"

    def token(self, server: str, subject: str = "1", *, audience: str | None = None) -> str:
        """A token for ``/<server>/mcp`` (or for ``audience``, e.g. :meth:`sse_url`)."""
        token, _claims = issue_access_token(
            self.runtime.signing_keys,
            issuer=self.base_url,
            subject=subject,
            audience=audience or self.url(server),
            client_id="c",
            scopes={"mcp"},
            now=self.runtime.clock.now(),
            lifetime=3600,
        )
        return token

    def headers(self, server: str, subject: str = "1", **extra: str) -> dict[str, str]:
        return {**LEGACY_HEADERS, "authorization": f"Bearer {self.token(server, subject)}", **extra}

    @asynccontextmanager
    async def client(
        self, server: str, *, subject: str = "1", mode: str = "auto", **options: Any
    ) -> AsyncIterator[Client]:
        """The official MCP SDK client (``mode`` ``auto`` probes 2026-07-28, ``legacy`` forces the handshake)."""
        headers = {"authorization": f"Bearer {self.token(server, subject)}"}
        async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30.0, read=120.0)) as http:
            async with Client(
                streamable_http_client(self.url(server), http_client=http), mode=mode, **options
            ) as client:
                yield client


@asynccontextmanager
async def serve_portico(
    tmp_path: Path,
    servers: dict[str, Any],
    *,
    limits: dict[str, Any] | None = None,
    port: int | None = None,
    clock: Clock | None = None,
    login: dict[str, Any] | None = None,
    secret_key: str | None = None,
    policy: dict[str, Any] | None = None,
    telemetry: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
    database_url: str | None = None,
    audit: dict[str, Any] | None = None,
    redis: dict[str, Any] | None = None,
    **gateway: Any,
) -> AsyncIterator[Portico]:
    """Portico on a loopback port (free unless given) with these ``servers`` (SQLite in ``tmp_path``).

    The data plane reads it for pinning (``servers.<name>.pinning``) and policy decisions; the same ``secret_key``
    serves the same database again (a restart).
    """
    port = port or free_port()
    data: dict[str, Any] = {
        "public_url": f"http://127.0.0.1:{port}",
        "database_url": database_url or f"sqlite:///{tmp_path / 'portico.db'}",
        "secrets": {
            "secret_key": secret_key or generate_secret(),
            "generated_key_file": str(tmp_path / "generated.key"),
        },
        "servers": servers,
        "gateway": gateway,
        "limits": limits or {},
    }
    if login is not None:
        data["login"] = login
    if policy is not None:
        data["policy"] = policy
    if telemetry is not None:
        data["telemetry"] = telemetry
    if metrics is not None:
        data["metrics"] = metrics
    if audit is not None:
        data["audit"] = audit
    if redis is not None:
        data["redis"] = redis
    config = PorticoConfig.model_validate(data)
    runtime = build_runtime(config, clock=clock or SystemClock(), env={})
    app = create_app(runtime=runtime)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on", timeout_graceful_shutdown=1)
    )
    async with anyio.create_task_group() as group:
        group.start_soon(server.serve)
        with anyio.fail_after(10):
            while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
                await anyio.sleep(0.02)
        try:
            yield Portico(config.public_url, runtime, app.state.gateway)
        finally:
            server.should_exit = True


@contextmanager
def fixture_http_server() -> Iterator[str]:
    """The SDK fixture server over Streamable HTTP in its own process; yields its ``/mcp`` URL."""
    with python_http_server(FIXTURE_SERVER, "http") as url:
        yield url


@contextmanager
def python_http_server(script: Path, *args: str) -> Iterator[str]:
    """``python script *args PORT`` (a free port appended) in its own process; yields its ``/mcp`` URL."""
    port = free_port()
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    process = subprocess.Popen(
        [sys.executable, str(script), *args, str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(timeout=10)


def wait_for_port(port: int, process: subprocess.Popen[bytes], deadline_s: float = 20.0) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        assert process.poll() is None, "the upstream server exited during startup"
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"port {port} did not open within {deadline_s} s")


def modern_headers(method: str, name: str | None = None) -> dict[str, str]:
    headers = {**LEGACY_HEADERS, "mcp-protocol-version": "2026-07-28", "mcp-method": method}
    if name is not None:
        headers["mcp-name"] = name
    return headers


def modern_body(method: str, params: dict[str, Any] | None = None, request_id: int = 1) -> dict[str, Any]:
    meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": {**(params or {}), "_meta": meta}}


def initialize_body(version: str = "2025-11-25", request_id: int = 1) -> dict[str, Any]:
    params = {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}
    return {"jsonrpc": "2.0", "id": request_id, "method": "initialize", "params": params}


async def open_raw_session(http: httpx2.AsyncClient, portico: Portico, server: str, subject: str = "1") -> str:
    """Initialize a handshake-era session by hand; returns Portico's ``Mcp-Session-Id``."""
    response = await http.post(portico.url(server), json=initialize_body(), headers=portico.headers(server, subject))
    assert response.status_code == 200, response.text
    mcp_session_id = response.headers["mcp-session-id"]
    initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    headers = portico.headers(server, subject, **{"mcp-session-id": mcp_session_id})
    assert (await http.post(portico.url(server), json=initialized, headers=headers)).status_code == 202
    return mcp_session_id


async def open_raw_session_2025_03(http: httpx2.AsyncClient, portico: Portico, server: str = "files") -> str:
    """A handshake-era session at 2025-03-26 (the revision that allows batches); its ``Mcp-Session-Id``."""
    answer = await http.post(portico.url(server), headers=portico.headers(server), json=initialize_body("2025-03-26"))
    session = answer.headers["mcp-session-id"]
    notified = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    headers = portico.headers(server, **{"mcp-session-id": session, "mcp-protocol-version": "2025-03-26"})
    await http.post(portico.url(server), headers=headers, json=notified)
    return session


def sse_messages(text: str) -> list[dict[str, Any]]:
    """The JSON messages of every ``data:`` line in an SSE body."""
    import json

    return [json.loads(line[5:]) for line in text.splitlines() if line.startswith("data:") and line[5:].strip()]


def leaf_error(error: BaseException) -> BaseException:
    """The first non-group exception inside (possibly nested) exception groups."""
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error


async def call_progress_through_a_gate(client: Client, gate_dir: Path, steps: int = 4) -> list[float]:
    """Call the fixture's ``progress`` tool so that each step waits for the client to have received the last.

    The client's progress callback creates ``gate_dir/<n>``; the fixture sends step n+1 only then. A relay
    that buffers notifications until the result therefore fails the call (fixture gate timeout, 15 s)
    rather than passing late: the check is causal, not a wall-clock bound. Returns the progress values seen.
    """
    received: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        received.append(progress)
        (gate_dir / str(int(progress))).touch()

    with anyio.fail_after(30):
        result = await client.call_tool(
            "progress", {"steps": steps, "delay": 0, "gate_dir": str(gate_dir)}, progress_callback=on_progress
        )
    assert not result.is_error, result
    return received
