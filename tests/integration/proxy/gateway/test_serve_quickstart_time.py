"""``portico serve`` as a real process with the quickstart's ``time`` server (mcp-server-time over stdio)."""

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
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from app.clock import SystemClock
from app.config import load_config
from app.crypto import generate_secret
from app.runtime import build_runtime
from oauth.tokens.access_tokens import issue_access_token
from tests.integration.proxy.gateway.harness import free_port, wait_for_port

pytestmark = pytest.mark.anyio
PORTICO = Path(sys.executable).parent / "portico"


@contextmanager
def portico_serve(config_path: Path, env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    with (config_path.parent / "portico.log").open("wb") as log:
        process = subprocess.Popen(
            [str(PORTICO), "serve", "--config", str(config_path)],
            cwd=config_path.parent,
            env=env,
            stdout=log,
            stderr=log,
        )
        try:
            wait_for_port(port, process)
            yield process
        finally:
            process.terminate()
            process.wait(timeout=20)


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not (Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z")


async def test_quickstart_time_server_answers_and_its_process_ends_with_portico(tmp_path: Path) -> None:
    """Our choice: `make run` serves `time` with no PATH set-up (Portico finds commands in its own
    environment's bin directory), and stopping Portico stops its stdio children."""
    port = free_port()
    config_path = tmp_path / "portico.yaml"
    config_path.write_text(
        f"public_url: http://127.0.0.1:{port}\n"
        f"listen: {{port: {port}}}\n"
        f"database_url: sqlite:///{tmp_path / 'portico.db'}\n"
        f"secrets: {{secret_key: '{generate_secret()}'}}\n"
        "servers:\n  time:\n    transport: stdio\n    command: mcp-server-time\n"
    )
    venv_bin = str(Path(sys.executable).parent)
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p != venv_bin)
    env = {"PATH": path, "HOME": os.environ.get("HOME", str(tmp_path))}
    with portico_serve(config_path, env, port) as process:
        runtime = build_runtime(load_config(config_path, env={}), clock=SystemClock(), env={})
        url = f"http://127.0.0.1:{port}/time/mcp"
        token, _ = issue_access_token(
            runtime.signing_keys,
            issuer=runtime.config.public_url,
            subject="1",
            audience=url,
            client_id="c",
            scopes={"mcp"},
            now=runtime.clock.now(),
            lifetime=600,
        )
        runtime.close()
        async with httpx2.AsyncClient(headers={"authorization": f"Bearer {token}"}, timeout=30) as http:
            async with Client(streamable_http_client(url, http_client=http), mode="legacy") as client:
                result = await client.call_tool("get_current_time", {"timezone": "Europe/Paris"})
        children = children_of(process.pid)
    assert "Europe/Paris" in result.content[0].text  # type: ignore[union-attr]
    assert children, "the time server should run as a child of Portico"
    with anyio.fail_after(10):
        while any(alive(pid) for pid in children):  # noqa: ASYNC110 - waiting on other processes
            await anyio.sleep(0.05)
