"""What Portico presents to an upstream server on a user's behalf: the credentials seam.

:class:`UpstreamCredentials` resolves ``(user subject, server)`` to HTTP headers (Streamable HTTP
upstreams) or environment variables (stdio upstreams). Sources:

- :class:`StaticCredentials`: the configuration (``servers.<name>.headers`` / ``.env``);
- :class:`VaultCredentials`: the static part plus, for ``credentials: user_token`` servers, the
  user's own token from the encrypted vault (:mod:`proxy.credentials.vault`), and for
  ``credentials: oauth`` servers the access token of the user's grant (:mod:`proxy.credentials.oauth`,
  refreshed ahead of expiry), rendered through the server's ``format`` into its ``header`` or
  ``env`` variable.

:class:`CachedCredentials` keeps resolutions in memory per ``(subject, server)`` for
``gateway.credential_cache_seconds`` — and never past the point where an OAuth access token needs
refreshing (:meth:`UpstreamCredentials.fresh_until`) — so a warm request never reaches the
database; a cold one reads it on a worker thread (:func:`app.db.run_db`). The key always includes
the subject: no resolution for one user is ever returned for another.

Every resolved value is registered with the log redactor before it is used.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar, cast

import anyio
from sqlalchemy.orm import Session, sessionmaker

from app.clock import Clock
from app.config.schema import (
    OAuthCredentialsConfig,
    PorticoConfig,
    StaticCredentialsConfig,
    StdioServerConfig,
    StreamableHttpServerConfig,
    UserTokenConfig,
)
from app.crypto import Envelope
from app.db import run_db
from app.log import register_secret
from proxy.credentials.groups import has_group_values, overlay, static_group_values, token_fallback, user_groups
from proxy.credentials.oauth.user_grants import OAuthGrants
from proxy.credentials.vault import USER_TOKEN, load_secret

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

    async def stdio_token(self, subject: str | None, server: str) -> str | None:
        """The user's rendered per-user credential for ``{token}`` in a stdio server's ``args`` (None: none)."""
        ...

    async def missing(self, subject: str, server: str) -> bool:
        """True when the server needs a per-user credential this user has not connected."""
        ...

    def fresh_until(self, subject: str, server: str) -> datetime | None:
        """Until when the last resolution for ``(subject, server)`` may be reused (None: no limit)."""
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

    async def stdio_token(self, subject: str | None, server: str) -> str | None:
        return None

    async def missing(self, subject: str, server: str) -> bool:
        return False

    def fresh_until(self, subject: str, server: str) -> datetime | None:
        return None


class VaultCredentials:
    """The static credentials plus each user's ``user_token`` or OAuth grant from the vault (uncached: wrap it)."""

    def __init__(self, config: PorticoConfig, *, db: sessionmaker[Session], envelope: Envelope, clock: Clock) -> None:
        self._static = StaticCredentials(config)
        self._tokens: dict[str, UserTokenConfig | OAuthCredentialsConfig] = {
            name: token for name, server in config.servers.items() if (token := server.per_user) is not None
        }
        self._db, self._envelope, self._clock = db, envelope, clock
        self.oauth_grants = OAuthGrants(config, db=db, envelope=envelope, clock=clock)
        self._fresh_until: dict[tuple[str, str], datetime] = {}
        self._static_groups: dict[str, StaticCredentialsConfig] = {
            name: server.credentials
            for name, server in config.servers.items()
            if isinstance(server.credentials, StaticCredentialsConfig) and server.credentials.groups
        }

    def is_per_user(self, server: str) -> bool:
        return server in self._tokens or server in self._static_groups

    async def _groups(self, subject: str) -> list[str]:
        return await run_db(self._db, lambda db: user_groups(db, subject))

    async def _static_values(self, subject: str | None, server: str, base: Mapping[str, str]) -> Mapping[str, str]:
        spec = self._static_groups.get(server)
        if spec is None or subject is None:
            return base
        return overlay(base, static_group_values(spec, await self._groups(subject)))

    async def http_headers(self, subject: str, server: str) -> Mapping[str, str]:
        static = await self._static_values(subject, server, await self._static.http_headers(subject, server))
        spec = self._tokens.get(server)
        value = await self._rendered(subject, server)
        if spec is None or value is None:
            return static
        return {**static, spec.header or "Authorization": value}

    async def stdio_env(self, subject: str | None, server: str) -> Mapping[str, str]:
        static = await self._static_values(subject, server, await self._static.stdio_env(subject, server))
        spec = self._tokens.get(server)
        if spec is None or spec.env is None or subject is None:
            return static
        value = await self._rendered(subject, server)
        return static if value is None else {**static, spec.env: value}

    async def stdio_token(self, subject: str | None, server: str) -> str | None:
        if subject is None or server not in self._tokens:
            return None
        return await self._rendered(subject, server)

    async def missing(self, subject: str, server: str) -> bool:
        return server in self._tokens and await self._rendered(subject, server) is None

    def fresh_until(self, subject: str, server: str) -> datetime | None:
        return self._fresh_until.get((subject, server))

    async def _rendered(self, subject: str, server: str) -> str | None:
        spec = self._tokens.get(server)
        if spec is None:
            return None
        if isinstance(spec, OAuthCredentialsConfig):
            return await self._oauth_rendered(subject, server, spec)
        now = self._clock.now()
        token = await run_db(
            self._db,
            lambda db: load_secret(db, self._envelope, subject=subject, server=server, kind=USER_TOKEN, now=now),
        )
        if token is None and (spec.groups or spec.default is not None):
            # No token of their own: a group's value, else the default (proxy/credentials/groups.py).
            fallback = token_fallback(spec, await self._groups(subject) if has_group_values(spec) else [])
            token = fallback.value if fallback is not None else None
        if token is None:
            return None
        register_secret(token)
        rendered = spec.render(token)
        register_secret(rendered)
        return rendered

    async def _oauth_rendered(self, subject: str, server: str, spec: OAuthCredentialsConfig) -> str | None:
        grant = await self.oauth_grants.current(subject, server)
        key = (subject, server)
        if grant is None:
            self._fresh_until.pop(key, None)
            return None
        if grant.expires_at is None:
            self._fresh_until.pop(key, None)
        else:
            self._fresh_until[key] = datetime.fromtimestamp(grant.expires_at, UTC) - timedelta(
                seconds=spec.refresh_margin
            )
        rendered = spec.render(grant.access_token)
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
    """Memoises another source per ``(subject, server)`` for ``ttl`` seconds (monotonic time), and
    never past the source's :meth:`~UpstreamCredentials.fresh_until` (wall-clock, ``clock``).

    :meth:`forget` bumps the user's generation, so a lookup that was in flight when the credential
    changed never stores its (stale) answer.
    """

    def __init__(self, source: UpstreamCredentials, ttl: float, clock: Clock | None = None) -> None:
        self.source = source
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[tuple[str, str | None, str], tuple[float, datetime | None, object]] = {}
        self._generation: dict[str | None, int] = {}

    def is_per_user(self, server: str) -> bool:
        return self.source.is_per_user(server)

    async def http_headers(self, subject: str, server: str) -> Mapping[str, str]:
        return await self._cached(("headers", subject, server), lambda: self.source.http_headers(subject, server))

    async def stdio_env(self, subject: str | None, server: str) -> Mapping[str, str]:
        return await self._cached(("env", subject, server), lambda: self.source.stdio_env(subject, server))

    async def stdio_token(self, subject: str | None, server: str) -> str | None:
        return await self._cached(("token", subject, server), lambda: self.source.stdio_token(subject, server))

    async def missing(self, subject: str, server: str) -> bool:
        return await self._cached(("missing", subject, server), lambda: self.source.missing(subject, server))

    def fresh_until(self, subject: str, server: str) -> datetime | None:
        return self.source.fresh_until(subject, server)

    async def _cached(self, key: tuple[str, str | None, str], fetch: Callable[[], Awaitable[T]]) -> T:
        now = anyio.current_time()
        hit = self._entries.get(key)
        if hit is not None and hit[0] > now and (hit[1] is None or self._wall_now() < hit[1]):
            return cast(T, hit[2])
        generation = self._generation.get(key[1], 0)
        value = await fetch()
        fresh_until = self.source.fresh_until(key[1], key[2]) if key[1] is not None else None
        if self._generation.get(key[1], 0) == generation:
            self._entries[key] = (now + self._ttl, fresh_until, value)
        return value

    def _wall_now(self) -> datetime:
        return self._clock.now() if self._clock is not None else datetime.now(UTC)

    def forget(self, subject: str, server: str | None = None) -> None:
        """Drop a user's cached credentials (all, or one server's) after they connect or remove one."""
        self._generation[subject] = self._generation.get(subject, 0) + 1
        self._entries = {
            key: value
            for key, value in self._entries.items()
            if key[1] != subject or (server is not None and key[2] != server)
        }
