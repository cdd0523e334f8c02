"""What Portico presents to an upstream server on a user's behalf: the credentials seam.

:class:`UpstreamCredentials` resolves ``(user subject, server)`` to HTTP headers (Streamable HTTP
upstreams) or environment variables (stdio upstreams). Sources:

- :class:`StaticCredentials`: the configuration (``servers.<name>.headers`` / ``.env``);
- :class:`VaultCredentials`: the static part plus, for ``credentials: user_token`` servers, the
  user's own token from the encrypted vault (:mod:`proxy.credential_vault`), rendered through
  the server's ``format`` into its ``header`` or ``env`` variable.

:class:`CachedCredentials` keeps resolutions in memory per ``(subject, server)`` for
``gateway.credential_cache_seconds`` so a warm request never reaches the database; a cold one
reads it on a worker thread (:func:`app.db.run_db`). The key always includes the subject: no
resolution for one user is ever returned for another.

Every resolved value is registered with the log redactor before it is used.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol, TypeVar, cast

import anyio
from sqlalchemy.orm import Session, sessionmaker

from app.clock import Clock
from app.config.schema import PorticoConfig, StdioServerConfig, StreamableHttpServerConfig, UserTokenConfig
from app.crypto import Envelope
from app.db import run_db
from app.log import register_secret
from proxy.credential_vault import USER_TOKEN, load_secret

T = TypeVar("T")


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

    async def missing(self, subject: str, server: str) -> bool:
        """True when the server needs a per-user credential this user has not connected."""
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

    async def missing(self, subject: str, server: str) -> bool:
        return False


class VaultCredentials:
    """The static credentials plus each user's ``user_token`` from the vault (uncached: wrap it)."""

    def __init__(self, config: PorticoConfig, *, db: sessionmaker[Session], envelope: Envelope, clock: Clock) -> None:
        self._static = StaticCredentials(config)
        self._tokens: dict[str, UserTokenConfig] = {
            name: token for name, server in config.servers.items() if (token := server.user_token) is not None
        }
        self._db, self._envelope, self._clock = db, envelope, clock

    def is_per_user(self, server: str) -> bool:
        return server in self._tokens

    async def http_headers(self, subject: str, server: str) -> Mapping[str, str]:
        static = await self._static.http_headers(subject, server)
        spec = self._tokens.get(server)
        value = await self._rendered(subject, server)
        if spec is None or value is None:
            return static
        return {**static, spec.header or "Authorization": value}

    async def stdio_env(self, subject: str | None, server: str) -> Mapping[str, str]:
        static = await self._static.stdio_env(subject, server)
        spec = self._tokens.get(server)
        if spec is None or spec.env is None or subject is None:
            return static
        value = await self._rendered(subject, server)
        return static if value is None else {**static, spec.env: value}

    async def missing(self, subject: str, server: str) -> bool:
        return server in self._tokens and await self._rendered(subject, server) is None

    async def _rendered(self, subject: str, server: str) -> str | None:
        spec = self._tokens.get(server)
        if spec is None:
            return None
        now = self._clock.now()
        token = await run_db(
            self._db,
            lambda db: load_secret(db, self._envelope, subject=subject, server=server, kind=USER_TOKEN, now=now),
        )
        if token is None:
            return None
        register_secret(token)
        rendered = spec.render(token)
        register_secret(rendered)
        return rendered


def _reveal(values: Mapping[str, object]) -> dict[str, str]:
    revealed: dict[str, str] = {}
    for key, secret in values.items():
        value = secret.get_secret_value() if hasattr(secret, "get_secret_value") else str(secret)
        register_secret(value)
        revealed[key] = value
    return revealed


class CachedCredentials:
    """Memoises another source per ``(subject, server)`` for ``ttl`` seconds (monotonic time).

    :meth:`forget` bumps the user's generation, so a lookup that was in flight when the credential
    changed never stores its (stale) answer.
    """

    def __init__(self, source: UpstreamCredentials, ttl: float) -> None:
        self._source = source
        self._ttl = ttl
        self._entries: dict[tuple[str, str | None, str], tuple[float, object]] = {}
        self._generation: dict[str | None, int] = {}

    def is_per_user(self, server: str) -> bool:
        return self._source.is_per_user(server)

    async def http_headers(self, subject: str, server: str) -> Mapping[str, str]:
        return await self._cached(("headers", subject, server), lambda: self._source.http_headers(subject, server))

    async def stdio_env(self, subject: str | None, server: str) -> Mapping[str, str]:
        return await self._cached(("env", subject, server), lambda: self._source.stdio_env(subject, server))

    async def missing(self, subject: str, server: str) -> bool:
        return await self._cached(("missing", subject, server), lambda: self._source.missing(subject, server))

    async def _cached(self, key: tuple[str, str | None, str], fetch: Callable[[], Awaitable[T]]) -> T:
        now = anyio.current_time()
        hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            return cast(T, hit[1])
        generation = self._generation.get(key[1], 0)
        value = await fetch()
        if self._generation.get(key[1], 0) == generation:
            self._entries[key] = (now + self._ttl, value)
        return value

    def forget(self, subject: str, server: str | None = None) -> None:
        """Drop a user's cached credentials (all, or one server's) after they connect or remove one."""
        self._generation[subject] = self._generation.get(subject, 0) + 1
        self._entries = {
            key: value
            for key, value in self._entries.items()
            if key[1] != subject or (server is not None and key[2] != server)
        }
