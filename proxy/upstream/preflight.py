"""Checks of the configured upstreams before serving: ``portico check-config`` (and ``--probe``).

Neither check is part of validation (a valid file may name a command that will be installed
later, or an upstream that is down now): they print warnings, and ``--strict`` turns a warning
into exit status 1.

- :func:`missing_commands`: a stdio server's ``command`` resolved exactly as the child would be
  started (:func:`proxy.stdio.environment.resolve_command` on the child's ``PATH``: the server's
  ``env.PATH`` if configured, else Portico's own, then Portico's interpreter directory).
- :func:`probe_upstreams`: one ``GET <url>`` (``Accept: text/event-stream``) per HTTP upstream with
  a short timeout; any HTTP status counts as reachable (an MCP endpoint answers a bare GET with
  405, 400 or 401 as readily as 200). Only headers are read; no MCP session is created.

Messages name the server and the key, never a URL or header value (they may carry secrets).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import anyio
import httpx2

from app.config.schema import PorticoConfig, StdioServerConfig, StreamableHttpServerConfig
from proxy.stdio.environment import child_environment, resolve_command

PROBE_TIMEOUT_SECONDS: Final = 3.0


@dataclass(frozen=True)
class ProbeResult:
    """The outcome of probing ``servers.<server>``: ``status`` is the HTTP status, or None when unreachable."""

    server: str
    status: int | None
    detail: str

    @property
    def reachable(self) -> bool:
        return self.status is not None

    def describe(self) -> str:
        if self.status is None:
            return f"servers.{self.server}: unreachable ({self.detail})"
        return f"servers.{self.server}: reachable, HTTP {self.status}"


def missing_commands(config: PorticoConfig, environ: Mapping[str, str] | None = None) -> list[str]:
    """One warning per stdio server whose ``command`` would not be found when its child starts."""
    warnings: list[str] = []
    for name, server in config.servers.items():
        if isinstance(server, StdioServerConfig) and not _command_exists(server, environ):
            warnings.append(
                f"servers.{name}.command: {server.command!r} was not found on the PATH the child process gets"
            )
    return warnings


def _command_exists(server: StdioServerConfig, environ: Mapping[str, str] | None) -> bool:
    configured = {key: value.get_secret_value() for key, value in server.env.items() if key == "PATH"}
    path = child_environment(configured, environ)["PATH"]
    try:
        found = resolve_command(server.command, path)
    except FileNotFoundError:
        return False
    candidate = Path(found)
    if not candidate.is_absolute():  # a relative command with a slash runs relative to the child's cwd
        candidate = (server.cwd or Path.cwd()) / candidate
    return candidate.is_file() and os.access(candidate, os.X_OK)


async def probe_upstreams(config: PorticoConfig, *, seconds: float = PROBE_TIMEOUT_SECONDS) -> list[ProbeResult]:
    """Probe every HTTP upstream once, concurrently; results in configuration order."""
    targets = [(n, s) for n, s in config.servers.items() if isinstance(s, StreamableHttpServerConfig)]
    results: dict[str, ProbeResult] = {}
    async with httpx2.AsyncClient(timeout=seconds, follow_redirects=False, trust_env=False) as client:

        async def probe(name: str, url: str) -> None:
            results[name] = await _probe(client, name, url, seconds)

        async with anyio.create_task_group() as group:
            for name, server in targets:
                group.start_soon(probe, name, server.url)
    return [results[name] for name, _server in targets]


async def _probe(client: httpx2.AsyncClient, name: str, url: str, seconds: float) -> ProbeResult:
    try:
        with anyio.fail_after(seconds):
            async with client.stream("GET", url, headers={"accept": "text/event-stream"}) as response:
                return ProbeResult(name, response.status_code, "")
    except TimeoutError:
        return ProbeResult(name, None, f"no answer within {seconds:g} s")
    except httpx2.HTTPError as error:
        return ProbeResult(name, None, type(error).__name__)
