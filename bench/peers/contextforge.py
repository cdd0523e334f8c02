"""IBM ContextForge (PyPI ``mcp-contextforge-gateway``) in front of the raw HTTP echo.

It needs Python >=3.12 (its own venv with an interpreter found on the machine), secrets strong
enough for its start-up checks, and setup through its REST API before timing: an admin JWT made
with its own ``create_jwt_token``, the echo registered as a gateway (its tools are then named
``<gateway>-<tool>``: ``echo-echo``), and a virtual server exposing that tool at
``/servers/<id>/mcp``. Defaults otherwise: SQLite, one uvicorn worker, no Redis, its default
database-backed cache.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2

from bench.peers.install import PeerUnavailableError, find_python, python_env
from bench.peers.peer import Front, Peer, Upstream, launch

REQUIREMENT = "mcp-contextforge-gateway==1.1.0"
ADMIN = "bench@example.com"


def settings(work: Path) -> dict[str, str]:
    """Environment for a throwaway ContextForge: fresh secrets, SQLite in ``work``, loopback upstreams."""
    password = "Bench-" + secrets.token_urlsafe(18)
    return {
        "DATABASE_URL": f"sqlite:///{work / 'contextforge.db'}",
        "JWT_SECRET_KEY": secrets.token_urlsafe(32),
        "AUTH_ENCRYPTION_SECRET": secrets.token_urlsafe(32),
        "PLATFORM_ADMIN_EMAIL": ADMIN,
        "PLATFORM_ADMIN_PASSWORD": password,
        "BASIC_AUTH_USER": "bench",
        "BASIC_AUTH_PASSWORD": password,
        "DEFAULT_USER_PASSWORD": password,
        "SSRF_ALLOW_LOCALHOST": "true",  # the echo is on 127.0.0.1
        # Its default limit (100 MCP requests/min, then a 15-minute lockout) would time the limiter, not the hop.
        "RATE_LIMITING_ENABLED": "false",
        "LOG_LEVEL": "ERROR",
    }


def _token(venv: Path, env: dict[str, str]) -> str:
    args = [str(venv / "bin" / "python"), "-m", "mcpgateway.utils.create_jwt_token", "-u", ADMIN, "--admin"]
    done = subprocess.run([*args, "-e", "240"], env=env, capture_output=True, text=True, timeout=120, check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise PeerUnavailableError(f"create_jwt_token failed: {done.stderr.strip()[-200:]}")
    return lines[-1].strip()


def _api(http: httpx2.Client, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    response = http.request(method, path, json=body)
    if response.status_code >= 300:
        raise PeerUnavailableError(f"{method} {path}: HTTP {response.status_code}: {response.text[:200]}")
    return response.json()


def _healthy(base: str, deadline_s: float) -> None:
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            if httpx2.get(f"{base}/health", timeout=10).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        if time.monotonic() > deadline:
            raise PeerUnavailableError(f"/health not ready within {deadline_s:g} s")
        time.sleep(0.5)


def register(base: str, token: str, echo_url: str) -> tuple[str, str]:
    """Register the echo as a gateway and expose its tool in a virtual server: (server URL, tool name)."""
    with httpx2.Client(base_url=base, headers={"authorization": f"Bearer {token}"}, timeout=60) as http:
        gateway = _api(http, "POST", "/gateways", {"name": "echo", "url": echo_url, "transport": "STREAMABLEHTTP"})
        tools = [tool for tool in _api(http, "GET", "/tools") if tool.get("gatewayId") == gateway["id"]]
        if not tools:
            raise PeerUnavailableError("the echo's tools were not discovered")
        server = _api(http, "POST", "/servers", {"server": {"name": "bench", "associated_tools": [tools[0]["id"]]}})
    return f"{base}/servers/{server['id']}/mcp", str(tools[0]["name"])


@contextmanager
def start(upstream: Upstream, work: Path) -> Iterator[Front]:
    from bench.run import free_port

    venv = python_env("contextforge", REQUIREMENT, find_python((3, 12), (3, 14)))
    home = work / "contextforge"
    home.mkdir(exist_ok=True)
    env = {**os.environ, **settings(home)}
    port = free_port()
    args = [str(venv / "bin" / "mcpgateway"), "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    with launch(args, port, home, env, deadline_s=180) as process:
        base = f"http://127.0.0.1:{port}"
        _healthy(base, 120)
        token = _token(venv, env)
        url, tool = register(base, token, upstream.http_url)
        yield Front(url, [process.pid, upstream.http_pid], token=token, tool=tool)


CONTEXTFORGE = Peer(
    "contextforge",
    REQUIREMENT,
    "http",
    "`mcpgateway --workers 1` (SQLite, no Redis); echo registered as a gateway, called through a virtual "
    "server `/servers/<id>/mcp` with an admin JWT",
    start,
)
