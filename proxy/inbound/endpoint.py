"""The ASGI endpoint behind every ``/<name>/mcp`` route: server lookup, Origin, authentication, era.

Order of checks: ``Origin`` (403) → bearer token (401, via the gateway's
:class:`~proxy.auth.resource_server.BearerAuthenticator`) → unknown server (404; before it, an
unknown name is checked against the resource it would be, so without a valid token it is answered
exactly like a known one) → ``MCP-Protocol-Version`` (400; the
body is read first so the -32022 error carries the request's id, SEP-2575) → the era's own
handler. This is also the boundary where Portico's own MCP-plane errors become responses: a
:class:`~proxy.wire.errors.GatewayError` raised before the response started is answered as a
JSON-RPC error with its status; after that point the handlers themselves end streams with an
error event. Once authenticated, the exchange is registered in
:class:`~proxy.inbound.open_exchanges.OpenExchanges` (a GET as a stream, anything else as a call)
so that shutdown and token lifetime can end it cleanly.
When something observes MCP requests (metrics, audit), the exchange is watched by
:class:`~proxy.inbound.observed.ObservedExchange` and reported as records once it ends.
A database outage on a cold path (a credential read) is answered the same way, as
:class:`~proxy.wire.errors.DatabaseUnavailableGatewayError` (503, ``Retry-After``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.types import Message, Receive, Scope, Send

from app.db_outage import DatabaseUnavailableError
from app.observe import tracing
from app.observe.records import Era as RecordEra
from proxy.gateway import Gateway
from proxy.inbound.handshake_era import serve_handshake_era
from proxy.inbound.modern_era import serve_modern_era
from proxy.inbound.observed import ObservedExchange
from proxy.inbound.open_exchanges import Kind, OpenExchange, OpenExchanges
from proxy.inbound.origin import OriginPolicy
from proxy.inbound.spans import failed, inbound_span, traced_send
from proxy.wire.asgi import header_values, read_body, request_headers, send_json
from proxy.wire.errors import (
    DatabaseUnavailableGatewayError,
    GatewayError,
    UnknownServerError,
    UnsupportedProtocolVersionError,
)
from proxy.wire.exchange import Exchange
from proxy.wire.jsonrpc import RequestId, decode_json, encode
from proxy.wire.protocol import PROTOCOL_VERSION_HEADER, Era, era_for

log = logging.getLogger("portico.proxy")


class NotAnEndpoint:
    """Anything below ``/<name>/mcp``: 404 with a JSON-RPC body (no redirect to the exact path)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = UnknownServerError("Not Found: the MCP endpoint is /<name>/mcp, without a trailing slash")
        await send_json(send, error.http_status, encode(error.to_message(None)), error.headers)


class McpEndpoint:
    def __init__(self, gateway: Gateway, origins: OriginPolicy, exchanges: OpenExchanges) -> None:
        self.gateway = gateway
        self.origins = origins
        self.exchanges = exchanges

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if tracing.ON:
            with inbound_span(scope, "tcp"):
                await self._observe(scope, receive, traced_send(send))
            return
        await self._observe(scope, receive, send)

    async def _observe(self, scope: Scope, receive: Receive, send: Send) -> None:
        events = self.gateway.events
        if not events.observes_mcp or scope["method"] in ("GET", "DELETE"):
            await self._answer(Exchange(scope, receive, send, request_headers(scope), _server(scope)))
            return
        observed = ObservedExchange(scope, receive, send)
        exchange = Exchange(scope, observed.receive, observed.send, request_headers(scope), _server(scope))
        try:
            await self._answer(exchange)
        except BaseException as refused:  # answered outside (401/403, 413, 500): record its status
            observed.status = observed.status or int(getattr(refused, "status_code", 500))
            raise
        finally:
            decisions = self.gateway.policy_decisions
            observed.report(events, exchange, _record_era(exchange), decisions=decisions)

    async def _answer(self, exchange: Exchange) -> None:
        started = False
        send = exchange.send

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        server = exchange.server
        exchange.send = tracking_send
        try:
            try:
                await self._serve(exchange)
            except DatabaseUnavailableError as outage:
                raise DatabaseUnavailableGatewayError.of(outage) from None
        except GatewayError as error:
            if tracing.ON:
                failed(error)
            if started:
                log.warning("%s: %s after the response started", server, error.message)
                return
            body = encode(error.to_message(exchange.request_id))
            await send_json(send, error.http_status, body, error.headers)

    async def _serve(self, exchange: Exchange) -> None:
        gateway = self.gateway
        backend = gateway.backends.get(exchange.server)
        resource, known = gateway.resources.for_path_or_assumed(exchange.server, "mcp")
        self.origins.check(exchange.header("origin"))
        claims = gateway.authenticator.authenticate(header_values(exchange.headers, "authorization"), resource)
        if backend is None or not known:
            raise UnknownServerError(f"Not Found: no MCP server named {exchange.server!r}")
        exchange.subject = claims.subject
        exchange.claims = claims
        try:
            era = era_for(exchange.header(PROTOCOL_VERSION_HEADER))
        except UnsupportedProtocolVersionError:
            exchange.request_id = _request_id(await read_body(exchange.receive))
            raise
        kind = Kind.STREAM if exchange.method == "GET" else Kind.CALL
        opened = OpenExchange(kind, exchange.server, claims.jwt_id, claims.expires_at, exchange.receive, exchange.send)
        opened.cancel_upstream = _canceller(exchange)
        exchange.receive, exchange.send = opened.receive, opened.send
        self.exchanges.open(opened)
        try:
            if era is Era.MODERN:
                await serve_modern_era(exchange, backend)
            else:
                await serve_handshake_era(exchange, backend, gateway.sessions)
        finally:
            self.exchanges.release(opened)
            await opened.finish(exchange.request_id, self.exchanges.shutdown_grace)


def _server(scope: Scope) -> str:
    return str(scope.get("path_params", {}).get("server", ""))


def _record_era(exchange: Exchange) -> RecordEra:
    try:
        return "2026-07-28" if era_for(exchange.header(PROTOCOL_VERSION_HEADER)) is Era.MODERN else "handshake"
    except UnsupportedProtocolVersionError:
        return "handshake"


def _canceller(exchange: Exchange) -> Callable[[], Awaitable[None]]:
    async def cancel_upstream() -> None:
        if exchange.cancel_upstream is not None:
            await exchange.cancel_upstream()

    return cancel_upstream


def _request_id(body: bytes) -> RequestId | None:
    """The ``id`` of a single JSON-RPC request body, or None when there is none to echo."""
    try:
        decoded = decode_json(body)
    except ValueError:
        return None
    identifier = decoded.get("id") if isinstance(decoded, dict) else None
    return identifier if isinstance(identifier, str | int) and not isinstance(identifier, bool) else None
