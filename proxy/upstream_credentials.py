"""What Portico presents to an upstream server on a user's behalf: the credentials seam.

:class:`UpstreamCredentials` resolves ``(user subject, server)`` to HTTP headers (Streamable HTTP
upstreams) or environment variables (stdio upstreams). Today the only source is the
configuration (:class:`StaticCredentials`: ``servers.<name>.headers`` / ``.env``); the per-user
credentials issue adds a source backed by the encrypted credential store behind the same
protocol. :class:`CachedCredentials` keeps resolutions in memory for
``gateway.credential_cache_seconds`` so a warm request never reaches the database.

Every resolved value is registered with the log redactor before it is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import anyio

from app.config.schema import PorticoConfig, StdioServerConfig, StreamableHttpServerConfig
from app.log import register_secret


class UpstreamCredentials(Protocol):
    def is_per_user(self, server: str) -> bool:
        """True when the server takes a per-user credential (a ``shared`` stdio process is then refused)."""
        ...

    async def http_headers(self, subject: str, server: str) -> Mapping[str, str]:
        """Headers added to every request to a Streamable HTTP upstream for this user."""
        ...

    async def stdio_env(self, subject: str | None, server: str) -> Mapping[str, str]:
        """Environment for a stdio child started for this user (``None``: a shared process)."""
        ...


class StaticCredentials:
    """The configured ``headers``/``env`` of each server, the same for every user."""

    def __init__(self, config: PorticoConfig) -> None:
        self._headers: dict[str, dict[str, str]] = {}
        self._env: dict[str, dict[str, str]] = {}
        for name, server in config.servers.items():
            if isinstance(server, StreamableHttpServerConfig):
                self._headers[name] = _reveal(server.headers)
            elif isinstance(server, StdioServerConfig):
                self._env[name] = _reveal(server.env)

    def is_per_user(self, server: str) -> bool:
        return False

    async def http_headers(self, subject: str, server: str) -> Mapping[str, str]:
        return self._headers.get(server, {})

    async def stdio_env(self, subject: str | None, server: str) -> Mapping[str, str]:
        return self._env.get(server, {})


def _reveal(values: Mapping[str, object]) -> dict[str, str]:
    revealed: dict[str, str] = {}
    for key, secret in values.items():
        value = secret.get_secret_value() if hasattr(secret, "get_secret_value") else str(secret)
        register_secret(value)
        revealed[key] = value
    return revealed


class CachedCredentials:
    """Memoises another source per ``(subject, server)`` for ``ttl`` seconds (monotonic time)."""

    def __init__(self, source: UpstreamCredentials, ttl: float) -> None:
        self._source = source
        self._ttl = ttl
        self._headers: dict[tuple[str, str], tuple[float, Mapping[str, str]]] = {}
        self._env: dict[tuple[str | None, str], tuple[float, Mapping[str, str]]] = {}

    def is_per_user(self, server: str) -> bool:
        return self._source.is_per_user(server)

    async def http_headers(self, subject: str, server: str) -> Mapping[str, str]:
        now = anyio.current_time()
        hit = self._headers.get((subject, server))
        if hit is not None and hit[0] > now:
            return hit[1]
        value = await self._source.http_headers(subject, server)
        self._headers[(subject, server)] = (now + self._ttl, value)
        return value

    async def stdio_env(self, subject: str | None, server: str) -> Mapping[str, str]:
        now = anyio.current_time()
        hit = self._env.get((subject, server))
        if hit is not None and hit[0] > now:
            return hit[1]
        value = await self._source.stdio_env(subject, server)
        self._env[(subject, server)] = (now + self._ttl, value)
        return value

    def forget(self, subject: str) -> None:
        """Drop a user's cached credentials (after they connect or revoke one)."""
        self._headers = {key: value for key, value in self._headers.items() if key[0] != subject}
        self._env = {key: value for key, value in self._env.items() if key[0] != subject}
