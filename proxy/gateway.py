"""The data plane's state, built once per app: backends per server, sessions, connections, HTTP client.

:class:`Gateway` wires configuration to the pieces (:mod:`proxy.backends`) and owns their lifetime:
:meth:`Gateway.running` runs with the app's lifespan — it owns the stdio reader tasks and the
reaper that expires idle client sessions and idle upstream connections — and closes every
process and pooled connection on shutdown. Nothing here touches the database on a warm request:
per-user credentials come from :class:`~proxy.credentials.sources.CachedCredentials` (a cold
lookup reads the vault on a worker thread). :meth:`Gateway.credential_changed` is called when a
user connects or removes a credential: it drops that user's cached resolution and stops their
process for that server, so the next request starts it with the new environment.

Access policy (docs/policy.md): unless the policy is open, every backend is wrapped, outermost, in a
:class:`~proxy.policy.guard.PolicyGuard` reading decisions cached per (token, server)
(:class:`~proxy.policy.decisions.PolicyDecisions`); with a :class:`~proxy.policy.tool_gate.ToolGate`
(tool-definition pinning) the guard is installed for the gate alone, on servers whose ``pinning``
is not ``off``. An open policy and no gate install nothing.

Rate limits (docs/limits.md): a server that ``limits.rules`` / ``limits.quotas`` name is wrapped in a
:class:`~proxy.limits.guard.LimitGuard` just inside the policy guard; other servers get nothing.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio

from app.config.schema import (
    TOKEN_PLACEHOLDER,
    AutoServerConfig,
    ServerConfig,
    SseServerConfig,
    StdioServerConfig,
    StreamableHttpServerConfig,
)
from app.limits.limiter import Limiter
from app.policy.access import AccessPolicy
from app.policy.engine import RulePolicy
from oauth.tokens.context import TokenContext
from proxy.auth.resource_server import BearerAuthenticator
from proxy.backends.auto import AutoBackend
from proxy.backends.base import Backend
from proxy.backends.credential_guard import CredentialGuard
from proxy.backends.http import HttpBackend
from proxy.backends.message import MessageBackend
from proxy.credentials.identity import UpstreamIdentities
from proxy.credentials.sources import CachedCredentials, VaultCredentials
from proxy.era_bridge.bridge import Connect
from proxy.era_bridge.parking import ParkedRequests
from proxy.era_bridge.request_state import RequestStateCodec, request_state_key
from proxy.limits.guard import LimitGuard
from proxy.policy.decisions import PolicyDecisions
from proxy.policy.guard import PolicyGuard
from proxy.policy.tool_gate import ToolGate
from proxy.stdio.environment import child_environment
from proxy.stdio.process import StdioConnection
from proxy.upstream.connection import MessageConnection
from proxy.upstream.http_client import DataPlaneClient, create_upstream_client
from proxy.upstream.pool import UpstreamKey, UpstreamPool
from proxy.upstream.sse_connection import SseConnection
from proxy.wire.deadline import DeadlineLimits, deadline_limits
from proxy.wire.errors import UpstreamFailedError
from proxy.wire.mcp_sessions import McpSessionRegistry

log = logging.getLogger("portico.proxy")


class Gateway:
    def __init__(
        self,
        runtime: TokenContext,
        *,
        policy: AccessPolicy | None = None,
        tool_gate: ToolGate | None = None,
        limiter: Limiter | None = None,
    ) -> None:
        """``policy``: the access policy (default: the configured ``policy`` and ``servers.<name>.tools``);
        ``tool_gate``: tool-definition pinning (None: off); ``limiter``: rate limits (default: configured)."""
        config = runtime.config
        self.settings = settings = config.gateway
        self.resources = runtime.resources
        self.events = runtime.events
        self.authenticator = BearerAuthenticator(runtime)
        self.sessions = McpSessionRegistry(
            idle_timeout=settings.session_idle_timeout,
            max_sessions=settings.max_sessions,
            max_sessions_per_user=settings.max_sessions_per_user,
        )
        self.pool = UpstreamPool(
            max_total=settings.max_processes,
            max_per_user=settings.max_processes_per_user,
            start_timeout=settings.process_start_timeout,
        )
        vault = VaultCredentials(
            config, db=runtime.db, sealer=runtime.sealer, clock=runtime.clock, events=runtime.events
        )
        self.credentials = CachedCredentials(vault, settings.credential_cache_seconds, runtime.clock)
        self.identities = UpstreamIdentities(runtime)  # servers.<name>.identity (docs/credentials.md §identity)
        self.oauth_grants = vault.oauth_grants
        self.oauth_grants.on_changed = self.credential_changed  # a refreshed token restarts stdio children
        self.http_client = create_upstream_client(settings)
        self.data_plane_client = DataPlaneClient(settings)
        self.public_url = config.public_url
        self.parked_requests = ParkedRequests(RequestStateCodec(request_state_key(runtime.keyring)))
        self.servers = dict(config.servers)
        clock = runtime.clock
        self.tool_gate = tool_gate
        policy = policy if policy is not None else RulePolicy.from_config(config)
        self.policy_decisions = (
            PolicyDecisions(policy, db=runtime.db, now=lambda: clock.now().timestamp()) if not policy.is_open else None
        )
        self.limiter = limiter if limiter is not None else Limiter.from_config(config, clock)
        self.backends: dict[str, Backend] = {name: self._guarded(name, s) for name, s in config.servers.items()}

    def _guarded(self, name: str, server: ServerConfig) -> Backend:
        backend = self._backend(name, server)
        if self.credentials.is_per_user(name):
            backend = CredentialGuard(backend, credentials=self.credentials, public_url=self.public_url)
        limits = self.limiter.for_server(name)
        if limits is not None:  # inside the policy guard: a refused request takes no token
            backend = LimitGuard(backend, limits=limits, limiter=self.limiter)
        gate = self.tool_gate if server.pinning != "off" else None  # pinning off: no gate for this server
        if self.policy_decisions is None and gate is None:
            return backend  # open policy, no pinning: nothing installed, nothing checked
        return PolicyGuard(backend, decisions=self.policy_decisions, gate=gate)

    async def credential_missing(self, subject: str, server: str) -> bool:
        """True when ``server`` needs a per-user credential that ``subject`` has not connected (cached)."""
        return await self.credentials.missing(subject, server)

    async def credential_changed(self, subject: str, server: str) -> None:
        """A user connected, replaced or removed their credential for ``server``.

        Drops the cached resolution (the next request reads the vault) and stops the user's
        stdio processes for that server (they were started with the old environment); their
        sessions restart the process on the next request. Other users are untouched.
        """
        self.credentials.forget(subject, server)
        for upstream in self.pool.live():
            if upstream.key.subject == subject and upstream.key.server == server:
                await self.pool.close(upstream)

    def _backend(self, name: str, server: ServerConfig) -> Backend:
        if isinstance(server, AutoServerConfig):
            return AutoBackend(
                name,
                server,
                client=self.http_client,
                credentials=self.credentials,
                streamable=self._http_backend(name, server),
                legacy=self._sse_backend(name, server),
                identities=self._identities_of(name),
            )
        if isinstance(server, SseServerConfig):
            return self._sse_backend(name, server)
        if isinstance(server, StreamableHttpServerConfig):
            return self._http_backend(name, server)
        if server.isolation == "shared" and self.credentials.is_per_user(name):
            raise ValueError(
                f"servers.{name}: isolation 'shared' is not allowed for a server with per-user credentials"
            )
        return MessageBackend(
            name,
            connect=self._stdio_connector(name, server),
            shared=server.isolation == "shared",
            pool=self.pool,
            sessions=self.sessions,
            settings=self.settings,
            parked=self.parked_requests,
            limits=self._limits(name, server),
        )

    def _http_backend(self, name: str, server: StreamableHttpServerConfig) -> HttpBackend:
        return HttpBackend(
            name,
            server,
            client=self.data_plane_client,
            bridge_client=self.http_client,
            credentials=self.credentials,
            sessions=self.sessions,
            settings=self.settings,
            pool=self.pool,
            parked=self.parked_requests,
            limits=self._limits(name, server),
            identities=self._identities_of(name),
        )

    def _identities_of(self, name: str) -> UpstreamIdentities | None:
        return self.identities if self.identities.configured(name) else None

    def _sse_backend(self, name: str, server: StreamableHttpServerConfig) -> MessageBackend:
        """A legacy HTTP+SSE upstream: message connections per (user, revision), like stdio (never shared)."""
        return MessageBackend(
            name,
            connect=self._sse_connector(name, server),
            shared=False,
            pool=self.pool,
            sessions=self.sessions,
            settings=self.settings,
            parked=self.parked_requests,
            limits=self._limits(name, server),
            transport="tcp",
        )

    def _limits(self, name: str, server: ServerConfig) -> DeadlineLimits:
        """``servers.<name>.request_timeout`` / ``max_request_duration``, else the ``gateway`` defaults."""
        return deadline_limits(
            name,
            request_timeout=server.request_timeout,
            max_request_duration=server.max_request_duration,
            default_request_timeout=self.settings.request_timeout,
            default_max_request_duration=self.settings.max_request_duration,
        )

    def _stdio_connector(self, name: str, server: StdioServerConfig) -> Connect:
        async def connect(subject: str | None) -> MessageConnection:
            configured = await self.credentials.stdio_env(subject, name)
            return await StdioConnection.start(
                command=server.command,
                args=await self._stdio_args(name, server, subject),
                env=child_environment(configured),
                cwd=server.cwd,
                label=f"{name}[{subject if subject is not None else 'shared'}]",
                max_message_bytes=self.settings.max_message_bytes,
                kill_grace=self.settings.process_kill_grace,
            )

        return connect

    async def _stdio_args(self, name: str, server: StdioServerConfig, subject: str | None) -> list[str]:
        """``args`` with ``{token}`` replaced by the user's rendered credential ('' until they connect one)."""
        if not any(TOKEN_PLACEHOLDER in arg for arg in server.args):
            return server.args
        token = await self.credentials.stdio_token(subject, name) or ""
        return [arg.replace(TOKEN_PLACEHOLDER, token) for arg in server.args]

    def _sse_connector(self, name: str, server: StreamableHttpServerConfig) -> Connect:
        async def connect(subject: str | None) -> MessageConnection:
            if server.identity is not None:  # transport auto found a legacy-SSE-only server
                raise UpstreamFailedError(
                    f"upstream server {name} speaks only the legacy HTTP+SSE transport, which cannot carry "
                    f"servers.{name}.identity (one connection per user); remove identity or upgrade the server"
                )
            headers = await self.credentials.http_headers(subject or "", name)
            return await SseConnection.open(
                client=self.http_client,
                config=server,
                headers=headers,
                label=f"{name}[{subject if subject is not None else 'shared'}]",
                max_message_bytes=self.settings.max_message_bytes,
            )

        return connect

    def idle_timeout(self, key: UpstreamKey) -> float:
        server = self.servers.get(key.server)
        return server.idle_timeout if isinstance(server, StdioServerConfig) else self.settings.session_idle_timeout

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Serve: own upstream connections and the reaper; close everything on exit."""
        try:
            async with (
                self.http_client,
                self.data_plane_client,
                self.pool.running(),
                anyio.create_task_group() as group,
            ):
                group.start_soon(self._reap_forever)
                try:
                    yield
                finally:
                    group.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True), anyio.move_on_after(1):
                await self.limiter.store.aclose()  # Redis connections (nothing in process)

    async def _reap_forever(self) -> None:
        while True:
            await anyio.sleep(self._reap_interval())
            await self.reap()

    async def reap(self) -> None:
        """Expire idle client sessions (releasing their upstream sessions) and stop idle processes."""
        now = anyio.current_time()
        for session in self.sessions.expire_idle(now):
            backend = self.backends.get(session.server)
            if backend is not None:
                await backend.handshake_delete(session)
        await self.pool.reap_idle(now, self.idle_timeout)

    def _reap_interval(self) -> float:
        timeouts = [self.settings.session_idle_timeout]
        timeouts += [s.idle_timeout for s in self.servers.values() if isinstance(s, StdioServerConfig)]
        return min(max(min(timeouts) / 4, 0.05), 10.0)
