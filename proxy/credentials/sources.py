"""What Portico presents to an upstream server on a user's behalf: the credentials seam.

:class:`UpstreamCredentials` resolves ``(user subject, server)`` to HTTP headers (Streamable HTTP
upstreams) or environment variables (stdio upstreams). Sources:

- :class:`StaticCredentials`: what every user is presented (the configured ``headers`` / ``env``);
- :class:`VaultCredentials`: what the one resolver (:func:`proxy.credentials.resolver.resolve`)
  decides from the configuration and the user's account and stored credential
  (:mod:`proxy.credentials.reading`): configured and group values, the user's own ``user_token``
  or a group's or the default token, or the access token of the user's OAuth grant
  (:mod:`proxy.credentials.oauth`, refreshed ahead of expiry), rendered through the server's
  ``format`` into its ``header`` or ``env`` variable. ``portico credentials explain`` prints the
  same decision.

:class:`CachedCredentials` keeps resolutions in memory per ``(subject, server)`` for
``gateway.credential_cache_seconds`` — and never past the point where an OAuth access token needs
refreshing (:meth:`UpstreamCredentials.fresh_until`) — so a warm request never reaches the
database; a cold one reads it on a worker thread (:func:`app.db.run_db`). The key always includes
the subject: no resolution for one user is ever returned for another.

Every resolved value is registered with the log redactor before it is used.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Protocol, TypeVar, cast

import anyio
from sqlalchemy.orm import Session, sessionmaker

from app.clock import Clock, SystemClock
from app.config.schema import PorticoConfig, ServerConfig
from app.crypto import Sealer
from app.db import run_db
from app.observe import tracing
from app.observe.bus import EventBus
from proxy.credentials.decision import Decision
from proxy.credentials.oauth.user_grants import OAuthGrants
from proxy.credentials.reading import NOBODY, needs_reading, read
from proxy.credentials.resolver import resolve

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
    """What every user is presented, without reading anything: the resolver's decision for nobody.

    The whole answer for servers whose values do not depend on the user (configured ``headers`` /
    ``env``), and the shared process's environment; :class:`VaultCredentials` asks it for those.
    """

    def __init__(self, config: PorticoConfig, clock: Clock | None = None) -> None:
        self._servers: dict[str, ServerConfig] = dict(config.servers)
        self._clock = clock or SystemClock()

    def decision(self, server: str) -> Decision | None:
        """The decision for a user the server knows nothing of (None: unknown server)."""
        spec = self._servers.get(server)
        return resolve(server, spec, NOBODY, self._clock.now()) if spec is not None else None

    def is_per_user(self, server: str) -> bool:
        return False

    async def http_headers(self, subject: str, server: str) -> Mapping[str, str]:
        decision = self.decision(server)
        return decision.headers() if decision is not None else {}

    async def stdio_env(self, subject: str | None, server: str) -> Mapping[str, str]:
        decision = self.decision(server)
        return decision.env() if decision is not None else {}

    async def stdio_token(self, subject: str | None, server: str) -> str | None:
        return None

    async def missing(self, subject: str, server: str) -> bool:
        return False

    def fresh_until(self, subject: str, server: str) -> datetime | None:
        return None


class VaultCredentials:
    """Every server's values as :func:`~proxy.credentials.resolver.resolve` decides them for each user
    (uncached: wrap it). A cold resolution reads the user's account and stored credential in one
    :func:`~app.db.run_db` call and refreshes an OAuth grant when the decision says it is due."""

    def __init__(
        self,
        config: PorticoConfig,
        *,
        db: sessionmaker[Session],
        sealer: Sealer,
        clock: Clock,
        events: EventBus | None = None,
    ) -> None:
        self._servers: dict[str, ServerConfig] = dict(config.servers)
        self._static = StaticCredentials(config, clock)
        self._db, self._sealer, self._clock = db, sealer, clock
        self.oauth_grants = OAuthGrants(config, db=db, sealer=sealer, clock=clock, events=events)
        self._fresh_until: dict[tuple[str, str], datetime] = {}

    def is_per_user(self, server: str) -> bool:
        spec = self._servers.get(server)
        return spec is not None and needs_reading(spec)

    async def http_headers(self, subject: str, server: str) -> Mapping[str, str]:
        decision = await self.decide(subject, server)
        return decision.headers() if decision is not None else {}

    async def stdio_env(self, subject: str | None, server: str) -> Mapping[str, str]:
        decision = await self.decide(subject, server)
        return decision.env() if decision is not None else {}

    async def stdio_token(self, subject: str | None, server: str) -> str | None:
        decision = await self.decide(subject, server) if subject is not None else None
        return decision.token if decision is not None else None

    async def missing(self, subject: str, server: str) -> bool:
        decision = await self.decide(subject, server)
        return decision is not None and decision.missing

    def fresh_until(self, subject: str, server: str) -> datetime | None:
        return self._fresh_until.get((subject, server))

    async def decide(self, subject: str | None, server: str) -> Decision | None:
        """The resolver's decision for ``subject`` (None: a shared process) at ``server`` (None: unknown server)."""
        spec = self._servers.get(server)
        if spec is None or subject is None or not needs_reading(spec):
            return self._static.decision(server)
        if tracing.ON:
            with tracing.span("portico.credentials.resolve", attributes={"portico.server": server}):
                return await self._read_and_resolve(spec, subject, server)
        return await self._read_and_resolve(spec, subject, server)

    async def _read_and_resolve(self, spec: ServerConfig, subject: str, server: str) -> Decision:
        now = self._clock.now()
        readings = await run_db(
            self._db, lambda db: read(db, self._sealer, spec, name=server, subject=subject, now=now)
        )
        decision = resolve(server, spec, readings, now)
        if decision.refresh_due:
            # One refresh at a time per (subject, server); the decision is taken again on its result.
            grant = await self.oauth_grants.current(subject, server)
            decision = resolve(server, spec, readings.with_grant(grant), now)
        if decision.refresh_at is None:
            self._fresh_until.pop((subject, server), None)
        else:
            self._fresh_until[(subject, server)] = decision.refresh_at
        return decision


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
