"""Each user's OAuth grant for each ``oauth`` server: loaded from the vault, refreshed ahead of expiry.

:meth:`OAuthGrants.current` returns a usable grant. When the access token expires within the
server's ``refresh_margin`` it is refreshed first (RFC 6749 §6), one refresh at a time per
``(subject, server)``: concurrent callers wait on the same lock, then read the grant the first one
stored, so a rotated refresh token is never used twice. Outcomes of a refresh:

- success: the new grant (the rotated refresh token, or the old one when none came back) is stored;
- ``invalid_grant``: the grant is deleted: the user must connect again (the call then answers the
  -32011 connect-URL error);
- any other failure (network, 5xx, another OAuth error): the old grant is used while its access
  token has not expired, else the user counts as not connected; nothing is deleted.

Everything here runs on the cold path only: a warm call is answered from
:class:`~proxy.credentials.sources.CachedCredentials` while the token is fresh. With several
Portico processes, the lock is per process (a concurrent refresh in two processes may make the
authorization server revoke the grant on refresh-token reuse; the user then reconnects).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import anyio
from sqlalchemy.orm import Session, sessionmaker

from app.clock import Clock, epoch_seconds
from app.config.schema import OAuthCredentialsConfig, PorticoConfig
from app.crypto import Sealer
from app.db import run_db
from app.log import register_secret
from app.observe.auth_events import auth_event, publish
from app.observe.bus import EventBus
from oauth.client.errors import AuthorizationServerUnavailableError, TokenRequestError
from proxy.credentials.oauth.client import ClientRegistration, UpstreamOAuthClient
from proxy.credentials.oauth.discovery import DiscoveredClients
from proxy.credentials.oauth.endpoints import EndpointResolver
from proxy.credentials.oauth.grant import OAUTH, OAuthGrant
from proxy.credentials.vault import forget_secret, load_secret, store_secret

log = logging.getLogger("portico.credentials")


class OAuthGrants:
    def __init__(
        self,
        config: PorticoConfig,
        *,
        db: sessionmaker[Session],
        sealer: Sealer,
        clock: Clock,
        events: EventBus | None = None,
    ) -> None:
        self.events = events or EventBus()  # credential_refreshed / credential_refresh_failed (the audit trail)
        self.specs: dict[str, OAuthCredentialsConfig] = {
            name: spec for name, server in config.servers.items() if (spec := server.oauth) is not None
        }
        self._db, self._sealer, self.clock = db, sealer, clock
        self._endpoints = EndpointResolver()
        self._discovery = DiscoveredClients(config, db=db, sealer=sealer, clock=clock)
        self._locks: dict[tuple[str, str], anyio.Lock] = {}
        # Told ``(subject, server)`` after a refresh replaced or deleted a grant: the gateway then
        # restarts the user's connections that were opened with the old token (stdio environments).
        self.on_changed: Callable[[str, str], Awaitable[None]] | None = None

    async def client(self, server: str) -> UpstreamOAuthClient:
        """The OAuth client for ``server`` (endpoints resolved on first use).

        Raises ``AuthorizationServerUnavailableError``.
        """
        spec = self.specs[server]
        if spec.discover:
            return await self._discovery.client(server, spec)
        return UpstreamOAuthClient(
            server, spec, await self._endpoints.resolve(server, spec), ClientRegistration.configured(spec)
        )

    async def load(self, subject: str, server: str) -> OAuthGrant | None:
        """The stored grant (decrypted), or None when absent or not decryptable for this owner."""
        now = self.clock.now()
        text = await run_db(
            self._db,
            lambda db: load_secret(db, self._sealer, subject=subject, server=server, kind=OAUTH, now=now),
        )
        grant = OAuthGrant.from_json(text) if text is not None else None
        if grant is not None:
            register_secret(grant.access_token)
            if grant.refresh_token:
                register_secret(grant.refresh_token)
        return grant

    async def store(self, subject: str, server: str, grant: OAuthGrant) -> None:
        now = self.clock.now()
        await run_db(
            self._db,
            lambda db: store_secret(
                db, self._sealer, subject=subject, server=server, kind=OAUTH, secret=grant.to_json(), now=now
            ),
        )

    async def delete(self, subject: str, server: str) -> bool:
        return await run_db(self._db, lambda db: forget_secret(db, subject=subject, server=server))

    async def current(self, subject: str, server: str) -> OAuthGrant | None:
        """A grant whose access token is usable now, refreshed first when it expires within the margin."""
        margin = self.specs[server].refresh_margin
        grant = await self.load(subject, server)
        if grant is None or not grant.needs_refresh(self._now(), margin):
            return grant
        key = (subject, server)
        lock = self._locks.setdefault(key, anyio.Lock())
        try:
            async with lock:
                # Whoever held the lock may have refreshed already: read again.
                grant = await self.load(subject, server)
                if grant is None or not grant.needs_refresh(self._now(), margin):
                    return grant
                return await self._refresh(subject, server, grant)
        finally:
            if not lock.locked() and lock.statistics().tasks_waiting == 0:
                self._locks.pop(key, None)

    async def _refresh(self, subject: str, server: str, grant: OAuthGrant) -> OAuthGrant | None:
        now = self._now()
        usable = None if grant.expired(now) else grant
        if grant.refresh_token is None:
            return usable
        try:
            token = await (await self.client(server)).refresh(grant.refresh_token)
        except TokenRequestError as error:
            if error.error == "invalid_grant":
                log.info("refresh of user %s's grant for server %s refused (invalid_grant); deleted", subject, server)
                self._refresh_failed(subject, server, "invalid_grant", deleted="true")
                await self.delete(subject, server)
                await self._changed(subject, server)
                return None
            log.warning("refresh of user %s's grant for server %s failed: %s", subject, server, error.error)
            self._refresh_failed(subject, server, error.error[:64])
            return usable
        except AuthorizationServerUnavailableError as error:
            log.warning("refresh of user %s's grant for server %s failed: %s", subject, server, error)
            self._refresh_failed(subject, server, "authorization_server_unavailable")
            return usable
        fresh = grant.rotated(token, self._now())
        register_secret(fresh.access_token)
        if fresh.refresh_token:
            register_secret(fresh.refresh_token)
        await self.store(subject, server, fresh)
        log.info("refreshed user %s's grant for server %s", subject, server)
        publish(self.events, [auth_event("credential_refreshed", subject=subject, server=server, method="oauth")])
        await self._changed(subject, server)
        return fresh

    def _refresh_failed(self, subject: str, server: str, reason: str, *, deleted: str | None = None) -> None:
        failed = auth_event(
            "credential_refresh_failed",
            outcome="refused",
            subject=subject,
            reason=reason,
            server=server,
            method="oauth",
            deleted=deleted,
        )
        publish(self.events, [failed])

    async def _changed(self, subject: str, server: str) -> None:
        if self.on_changed is not None:
            await self.on_changed(subject, server)

    def _now(self) -> int:
        return epoch_seconds(self.clock.now())
