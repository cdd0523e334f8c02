"""The app factory: ``create_app(config)`` wires routers, middleware and error handlers."""

from __future__ import annotations

import functools
import importlib.metadata
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI

from app import health
from app.allowed_hosts import AllowedHostsMiddleware, allowed_hosts
from app.audit.trail import AuditTrail
from app.clock import SystemClock
from app.config import PorticoConfig, load_config
from app.config.loader import resolve_config_path
from app.errors import install_error_handlers
from app.forwarded import add_forwarded_headers
from app.limits.endpoints import EndpointLimitMiddleware
from app.limits.limiter import Limiter
from app.log import install_request_ids
from app.middleware import BodyLimitMiddleware, SecurityHeadersMiddleware
from app.observe.auth_events import auth_event, publish
from app.observe.http_spans import AuthorizationSpans
from app.observe.request_id import RequestIdMiddleware
from app.observe.tracing_setup import install as install_tracing
from app.runtime import Runtime, build_runtime
from app.shutdown import SHUTDOWN_DRAIN
from app.startup_heap import freeze_startup_heap, thaw_startup_heap
from app.web import static_files
from oauth.cimd import ClientMetadataDocument
from oauth.client_metadata_documents import METADATA_DOCUMENTS, build_metadata_documents
from oauth.consent.after_approval import AFTER_APPROVAL
from oauth.endpoints import protected_resource_metadata
from oauth.endpoints.router import router as oauth_router
from oauth.login.routes import install_login
from oauth.tokens.context import TOKEN_CONTEXT
from proxy.auth.resource_server import BEARER_AUTHENTICATOR, install_resource_server_errors
from proxy.connections import portal as connections
from proxy.connections.consent_step import ConnectStep
from proxy.connections.gateway_port import CONNECTIONS_GATEWAY
from proxy.inbound.cors import McpCors
from proxy.inbound.fast_path import McpFastPath
from proxy.inbound.open_exchanges import OpenExchanges
from proxy.metrics.exporter import MetricsExporter, metrics_exporter
from proxy.routes import include_gateway

AUDIT_FLUSH_SECONDS = 10.0
"""How long shutdown waits for the audit queue to be written (then the remainder is logged)."""


def create_app(config: PorticoConfig | None = None, *, runtime: Runtime | None = None) -> FastAPI:
    """Build the ASGI application. Without arguments, loads the config named by ``PORTICO_CONFIG``.

    Building the runtime (keys, database, migrations) happens here, so a broken deployment fails
    before the server binds.
    """
    install_request_ids()
    if runtime is None:
        runtime = build_runtime(config or load_config(resolve_config_path(None)))

    metadata_documents = build_metadata_documents(runtime.config.oauth.client_metadata_documents)
    if metadata_documents is not None:
        metadata_documents.on_first_seen = functools.partial(_client_first_seen, runtime)
    traces = install_tracing(runtime.config.telemetry, _version())
    metrics: list[MetricsExporter] = []  # set once the gateway exists, below

    audit = _audit_trail(runtime)
    endpoint_limits = Limiter.from_config(runtime.config, runtime.clock)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        for exporter in metrics:
            exporter.start()
        freeze_startup_heap()
        async with anyio.create_task_group() as background:
            if audit is not None:
                background.start_soon(audit.run)
            yield  # the routers' lifespans (gateway drain) end inside: their last records are queued
            background.cancel_scope.cancel()
        if audit is not None:
            await audit.close(AUDIT_FLUSH_SECONDS)
        thaw_startup_heap()
        for exporter in metrics:
            await anyio.to_thread.run_sync(exporter.stop)
        if metadata_documents is not None:
            await metadata_documents.aclose()
        with anyio.move_on_after(1):
            await endpoint_limits.store.aclose()
        runtime.close()
        traces.close()  # flushes the batch of spans still buffered

    app = FastAPI(title="Portico", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    TOKEN_CONTEXT.put(app, runtime)  # also APP_CONTEXT: the same attribute, a narrower view
    if metadata_documents is not None:
        METADATA_DOCUMENTS.put(app, metadata_documents)
    install_error_handlers(app)
    install_resource_server_errors(app)
    app.include_router(health.router)
    app.include_router(protected_resource_metadata.router)
    install_login(app, runtime.config)
    app.include_router(oauth_router)
    app.mount("/static", static_files, name="static")
    exchanges = OpenExchanges(shutdown_grace=runtime.config.listen.shutdown_grace)
    SHUTDOWN_DRAIN.put(app, exchanges)
    gateway = include_gateway(app, runtime, exchanges)
    BEARER_AUTHENTICATOR.put(app, gateway.authenticator)
    CONNECTIONS_GATEWAY.put(app, gateway)
    AFTER_APPROVAL.put(app, ConnectStep(runtime, gateway))
    exporter = metrics_exporter(runtime.config, runtime.events, gateway, exchanges, runtime.engine)
    if exporter is not None:
        metrics.append(exporter)
    app.include_router(connections.router)
    _wrap(app, runtime.config, endpoint_limits)
    return app


def _client_first_seen(runtime: Runtime, document: ClientMetadataDocument) -> None:
    """A metadata-document client this process had not seen: audited like a registration."""
    seen = auth_event(
        "client_registered",
        client_id=document.client_id,
        client_name=document.client_name,
        registration="metadata_document",
        host=document.host,
    )
    publish(runtime.events, [seen])


def _audit_trail(runtime: Runtime) -> AuditTrail | None:
    """The audit trail observing this runtime's events (None: ``audit.enabled`` is false)."""
    config = runtime.config.audit
    if not config.enabled:
        return None
    trail = AuditTrail(config, runtime.db if config.to_database else None, runtime.clock)
    runtime.events.add_mcp(trail)
    runtime.events.add_auth(trail)
    runtime.events.wants_arguments = config.include_arguments
    runtime.audit = trail
    return trail


def _wrap(app: FastAPI, config: PorticoConfig, endpoint_limits: Limiter | None = None) -> None:
    """The middleware chain; ``endpoint_limits`` default: the configured limits on the system clock."""
    endpoint_limits = endpoint_limits or Limiter.from_config(config, SystemClock())
    https = config.public_url.startswith("https://")
    limit = config.limits.max_body_bytes
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=limit)
    app.add_middleware(EndpointLimitMiddleware, limiter=endpoint_limits)  # AS endpoints (MCP paths skip it)
    app.add_middleware(SecurityHeadersMiddleware, https=https)
    # MCP paths skip the router and the two layers above, keeping their guarantees.
    app.add_middleware(McpFastPath, router=app.router, servers=list(config.servers), max_body_bytes=limit, https=https)
    app.add_middleware(McpCors, origins=[config.public_url, *config.gateway.allowed_origins])
    app.add_middleware(AllowedHostsMiddleware, hosts=allowed_hosts(config))
    if config.telemetry.on:  # off: not even in the chain
        app.add_middleware(AuthorizationSpans)
    add_forwarded_headers(app, config.listen)  # the client address and scheme for everything inside
    # outermost: an incoming X-Request-Id is trusted on the socket peer, before forwarded headers rewrite it
    app.add_middleware(RequestIdMiddleware, trusted_proxies=config.listen.trusted_proxies)


def _version() -> str:
    try:
        return importlib.metadata.version("portico")
    except importlib.metadata.PackageNotFoundError:
        return ""
