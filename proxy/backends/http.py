"""Serving one configured server whose upstream is reached over Streamable HTTP (``transport: streamable-http``).

The upstream already speaks the client's transport, so Portico relays at the HTTP level and stays
transparent: the body bytes go upstream unchanged (already validated), the upstream's status and
content type come back, SSE is relayed event by event with event ids intact (so ``Last-Event-ID``
resumption works end to end), and requests are re-originated with Portico's own headers
(:mod:`proxy.upstream.headers`) plus the server's credential.

- **Handshake era.** Client sessions map 1:1 to upstream sessions: ``initialize`` is forwarded,
  the upstream's ``Mcp-Session-Id`` is kept in the client's Portico session and never shown to
  the client; every later POST/GET/DELETE of that session carries it upstream. Ids need no
  remapping because nothing else shares the upstream session. An upstream 404 on a mapped
  session (the upstream restarted) is recovered: the upstream session is re-initialized with the
  client's ``initialize`` params and the request retried once (:mod:`proxy.backends.http_recovery`).
- **Deadlines.** Each single-request POST has a :class:`~proxy.wire.deadline.RequestDeadline`:
  the head is awaited at most until it, the relayed SSE events reset its silence clock, and on
  expiry the client gets -32001 and a handshake-era upstream ``notifications/cancelled``.
- **2026-07-28.** Each POST is forwarded as is; closing the client's stream closes the upstream's —
  when the upstream speaks 2026-07-28. The first modern request probes it with ``server/discover``
  (:mod:`proxy.era_bridge.http_probe`, verdict kept 300 s); a handshake-only upstream is bridged
  (:mod:`proxy.era_bridge.bridge`) over a message-level handshake session per user
  (:mod:`proxy.era_bridge.http_connection`).
- **Handshake client, 2026-07-28-only upstream.** When the upstream refuses ``initialize`` with a
  4xx and answers ``server/discover`` as a modern server, Portico answers the handshake and
  translates the session's requests itself (:mod:`proxy.era_bridge.modern_upstream`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

import anyio
import httpx2

from app.config.schema import GatewayConfig, StreamableHttpServerConfig
from oauth.tokens.access_tokens import AccessTokenClaims
from proxy.backends.http_recovery import SessionRecovery
from proxy.credentials.identity import SESSION_CLAIMS, UpstreamIdentities, session_claims
from proxy.credentials.sources import UpstreamCredentials
from proxy.era_bridge.bridge import HandshakeBridge
from proxy.era_bridge.http_connection import HttpMessageConnection
from proxy.era_bridge.http_probe import speaks_modern_http
from proxy.era_bridge.modern_http_exchange import HttpModernExchange
from proxy.era_bridge.modern_upstream import ModernUpstreamBridge
from proxy.era_bridge.parking import ParkedRequests
from proxy.upstream.connection import MessageConnection
from proxy.upstream.headers import client_response_headers, upstream_headers
from proxy.upstream.http_client import (
    DataPlaneClient,
    UpstreamConnectError,
    UpstreamHttpError,
    UpstreamReadTimeoutError,
    UpstreamResponse,
)
from proxy.upstream.http_relay import relay_json, relay_sse
from proxy.upstream.pool import UpstreamPool
from proxy.upstream.subscriptions import track_subscriptions
from proxy.wire.deadline import DeadlineLimits, RequestDeadline, RequestTimeoutError
from proxy.wire.errors import (
    ProtocolEraNotSupportedError,
    UpstreamAuthFailedError,
    UpstreamFailedError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from proxy.wire.exchange import Exchange
from proxy.wire.jsonrpc import JsonRpcMessage, JsonRpcNotification, JsonRpcRequest, RequestId, encode
from proxy.wire.mcp_sessions import McpSession, McpSessionRegistry
from proxy.wire.protocol import DEFAULT_HANDSHAKE_VERSION, PROTOCOL_VERSION_HEADER, SESSION_ID_HEADER

_SSE: Final = "text/event-stream"
_VERDICT_SECONDS: Final = 300.0
_LISTEN: Final = "subscriptions/listen"  # a stream, not a request awaiting its answer: no deadline


class HttpBackend:
    def __init__(
        self,
        server: str,
        config: StreamableHttpServerConfig,
        *,
        client: DataPlaneClient,
        bridge_client: httpx2.AsyncClient,
        credentials: UpstreamCredentials,
        sessions: McpSessionRegistry,
        settings: GatewayConfig,
        pool: UpstreamPool,
        parked: ParkedRequests,
        limits: DeadlineLimits | None = None,
        identities: UpstreamIdentities | None = None,
    ) -> None:
        self.server = server
        self._config = config
        self._limits = limits
        self._identities = identities  # None: the server sends no signed identity
        self._recovery = SessionRecovery(server, post=self._post_recovery, max_message_bytes=settings.max_message_bytes)
        self._client = client
        self._bridge_client = bridge_client  # the bridges' message-level traffic (not the relay's hot path)
        self._credentials = credentials
        self._sessions = sessions
        self._settings = settings
        self._bridge = HandshakeBridge(
            server, connect=self._connect, pool=pool, settings=settings, parked=parked, limits=limits
        )
        self._era_verdict: tuple[bool, float] | None = None  # (speaks 2026-07-28, until)
        send = HttpModernExchange(
            server, config, client=bridge_client, credentials=credentials, settings=settings, identities=identities
        )
        self._modern = ModernUpstreamBridge(server, send=send, sessions=sessions, settings=settings)

    async def handshake_post(
        self, exchange: Exchange, session: McpSession | None, messages: list[JsonRpcMessage], body: bytes
    ) -> None:
        if session is not None and self._modern.owns(session):
            await self._modern.post(exchange, session, messages)
            return
        request_id = _single_request_id(messages)
        if session is None:
            await self._initialize(exchange, messages, body, request_id)
            return
        track_subscriptions(session, messages)
        deadline = self._deadline(request_id, messages)
        cancel = self._canceller(exchange, session, request_id)
        try:
            response = await self._recovery.send(
                session, lambda upstream_session: self._send(exchange, "POST", body, upstream_session, deadline)
            )
        except RequestTimeoutError as error:
            await cancel(error)
            raise
        try:
            await self._relay(exchange, response, session, request_id, deadline, cancel)
        finally:
            exchange.upstream_done()
            await response.aclose()

    async def _initialize(
        self, exchange: Exchange, messages: list[JsonRpcMessage], body: bytes, request_id: RequestId | None
    ) -> None:
        response = await self._send(exchange, "POST", body, None)
        if await self._refused_as_modern_only(exchange, response):
            first = messages[0]
            assert isinstance(first, JsonRpcRequest)
            await self._modern.initialize(exchange, first)
            return
        try:
            session = self._open_session(exchange, messages, response) if response.status_code < 300 else None
            await self._relay(exchange, response, session, request_id)
        finally:
            exchange.upstream_done()
            await response.aclose()

    async def handshake_get(self, exchange: Exchange, session: McpSession) -> None:
        if self._modern.owns(session):
            await self._modern.get(exchange, session)
            return
        response = await self._recovery.send(
            session, lambda upstream_session: self._send(exchange, "GET", None, upstream_session)
        )
        try:
            await self._relay(exchange, response, session, None)
        finally:
            await response.aclose()

    async def handshake_delete(self, session: McpSession) -> None:
        """Best effort: tell the upstream its session is over (it may answer 405; that is fine)."""
        if self._modern.owns(session):
            self._modern.delete(session)
            return
        if session.upstream_session_id is None:
            return
        headers = upstream_headers(
            await self._presented(session.subject, session_claims(session)),
            {SESSION_ID_HEADER: session.upstream_session_id, PROTOCOL_VERSION_HEADER: session.protocol_version},
        )
        try:
            response = await self._request("DELETE", headers, None)
        except UpstreamHttpError:
            return
        await response.aclose()

    async def modern_post(self, exchange: Exchange, request: JsonRpcRequest, body: bytes) -> None:
        if not await self._speaks_modern(exchange):
            self._refuse_bridge_with_identity()
            await self._bridge.serve(exchange, request)
            return
        # 2026-07-28: closing the response stream is the cancellation (streamable-http.mdx).
        deadline = self._deadline(request.id, [request])
        response = await self._send(exchange, "POST", body, None, deadline)
        try:
            await self._relay(exchange, response, None, request.id, deadline, _closing_cancels)
        finally:
            exchange.upstream_done()
            await response.aclose()

    async def modern_notify(self, exchange: Exchange, notification: JsonRpcNotification, body: bytes) -> None:
        if not await self._speaks_modern(exchange):
            self._refuse_bridge_with_identity()
            await self._bridge.notify(exchange, notification)
            return
        response = await self._send(exchange, "POST", body, None)
        try:
            await self._relay(exchange, response, None, None)
        finally:
            exchange.upstream_done()
            await response.aclose()

    def _refuse_bridge_with_identity(self) -> None:
        """A 2026-07-28 request bridged to a handshake-only upstream travels on one connection per user,
        opened with one set of headers: it cannot carry each client's identity. Refused with -32008, so
        dual-era clients fall back to the handshake, which carries it (docs/credentials.md §identity).

        Raises:
            ProtocolEraNotSupportedError: the server sends a signed identity.
        """
        if self._identities is not None:
            raise ProtocolEraNotSupportedError(
                f"upstream server {self.server} speaks only the initialize handshake and sends a signed "
                "identity per request: use the initialize handshake (protocol 2025-11-25 or earlier)"
            )

    async def _presented(self, subject: str, claims: AccessTokenClaims | None) -> Mapping[str, str]:
        """What Portico presents upstream for this user: the credential, plus the signed identity when configured."""
        credential = await self._credentials.http_headers(subject, self.server)
        if self._identities is None:
            return credential
        return {**credential, **await self._identities.headers(self.server, claims)}

    async def _speaks_modern(self, exchange: Exchange) -> bool:
        """The upstream's era, probed with ``server/discover`` and remembered for 300 s."""
        now = anyio.current_time()
        if self._era_verdict is None or self._era_verdict[1] <= now:
            headers = await self._presented(exchange.subject, exchange.claims)
            modern = await speaks_modern_http(self._bridge_client, self._config, headers, self.server)
            self._era_verdict = (modern, now + _VERDICT_SECONDS)
        return self._era_verdict[0]

    async def _refused_as_modern_only(self, exchange: Exchange, response: UpstreamResponse) -> bool:
        """An ``initialize`` refused with a 4xx by an upstream that answers ``server/discover`` (2026-07-28 only)."""
        if not 400 <= response.status_code < 500 or response.status_code in (401, 403):
            return False
        try:
            modern = await self._speaks_modern(exchange)
        except BaseException:
            await response.aclose()
            raise
        if modern:
            await response.aclose()
        return modern

    async def _connect(self, subject: str | None) -> MessageConnection:
        """A handshake-era message connection for the bridge (one per user, pooled)."""
        return HttpMessageConnection(
            client=self._bridge_client,
            config=self._config,
            headers=await self._credentials.http_headers(subject or "", self.server),
            label=f"{self.server}[{subject}]",
            max_message_bytes=self._settings.max_message_bytes,
        )

    def _open_session(
        self, exchange: Exchange, messages: list[JsonRpcMessage], response: UpstreamResponse
    ) -> McpSession:
        first = messages[0]
        requested = first.params.get("protocolVersion") if isinstance(first, JsonRpcRequest) and first.params else None
        params = first.params if isinstance(first, JsonRpcRequest) else None
        return self._sessions.create(
            subject=exchange.subject,
            server=self.server,
            protocol_version=requested if isinstance(requested, str) else DEFAULT_HANDSHAKE_VERSION,
            upstream_session_id=response.header(SESSION_ID_HEADER),
            initialize_params=params,  # replayed if the upstream loses the session (http_recovery.py)
            attachments={SESSION_CLAIMS: exchange.claims},  # Portico's own requests on it carry the identity
        )

    def _deadline(self, request_id: RequestId | None, messages: list[JsonRpcMessage]) -> RequestDeadline | None:
        """A deadline for a POST of exactly one request (``subscriptions/listen`` is a stream: none)."""
        if self._limits is None or request_id is None:
            return None
        if any(isinstance(m, JsonRpcRequest) and m.method == _LISTEN for m in messages):
            return None
        return RequestDeadline(self._limits)

    def _canceller(
        self, exchange: Exchange, session: McpSession, request_id: RequestId | None
    ) -> Callable[[RequestTimeoutError], Awaitable[None]]:
        async def cancel(error: RequestTimeoutError) -> None:
            """Tell the upstream (cancellation.mdx); best effort, never the client's concern."""
            if request_id is None or session.upstream_session_id is None:
                return
            params = {"requestId": request_id, "reason": error.message}
            message = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": params}
            with anyio.CancelScope(shield=True), anyio.move_on_after(self._config.connect_timeout):
                try:
                    response = await self._post_internal(session.upstream_session_id, message, session)
                except (UpstreamHttpError, UpstreamUnavailableError):
                    return
                await response.aclose()

        return cancel

    async def _post_recovery(
        self, upstream_session: str | None, message: dict[str, Any], user: McpSession
    ) -> UpstreamResponse:
        """Session recovery's POSTs (re-initialize, initialized, re-subscribe), presented as ``user``'s."""
        return await self._post_internal(upstream_session, message, user=user)

    async def _post_internal(
        self,
        upstream_session: str | None,
        message: dict[str, Any],
        session: McpSession | None = None,
        *,
        user: McpSession | None = None,
    ) -> UpstreamResponse:
        """Portico's own POST to the upstream (recovery, cancellation), as ``session``'s (or ``user``'s) user.

        ``session`` also sets ``MCP-Protocol-Version``; ``user`` only decides the credential and identity.

        Raises:
            UpstreamUnavailableError: no connection. UpstreamHttpError: no response head.
        """
        extra = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
        if upstream_session is not None:
            extra[SESSION_ID_HEADER] = upstream_session
        if session is not None:
            extra[PROTOCOL_VERSION_HEADER] = session.protocol_version
        owner = user if user is not None else session
        subject = owner.subject if owner is not None else ""
        headers = upstream_headers(await self._presented(subject, session_claims(owner)), extra)
        try:
            return await self._request("POST", headers, encode(message))
        except UpstreamConnectError as error:
            raise UpstreamUnavailableError(f"upstream server {self.server} is unreachable ({error})") from error

    async def _send(
        self,
        exchange: Exchange,
        method: str,
        body: bytes | None,
        upstream_session: str | None,
        deadline: RequestDeadline | None = None,
    ) -> UpstreamResponse:
        """Re-originate the client's request upstream and return the (streaming) response.

        Raises:
            UpstreamUnavailableError / UpstreamTimeoutError / UpstreamFailedError: no response.
            RequestTimeoutError: ``deadline`` passed before the response head.
        """
        headers = upstream_headers(
            await self._presented(exchange.subject, exchange.claims),
            {SESSION_ID_HEADER: upstream_session} if upstream_session is not None else None,
            client=exchange.headers,
        )
        read_timeout = self._config.read_timeout
        if deadline is not None:  # aiohttp's read timer waits for the head: no timer of our own
            read_timeout = max(0.001, min(read_timeout, deadline.remaining()))
        exchange.upstream_sent()
        try:
            return await self._request(method, headers, body, read_timeout)
        except UpstreamConnectError as error:
            raise UpstreamUnavailableError(f"upstream server {self.server} is unreachable ({error})") from error
        except UpstreamReadTimeoutError as error:
            if deadline is not None and (expired := deadline.expired()) is not None:
                raise expired from error
            raise UpstreamTimeoutError(f"upstream server {self.server} did not answer in time") from error
        except UpstreamHttpError as error:
            raise UpstreamFailedError(f"upstream server {self.server} failed ({error})") from error

    async def _request(
        self, method: str, headers: dict[str, str], body: bytes | None, read_timeout: float | None = None
    ) -> UpstreamResponse:
        config = self._config
        return await self._client.send(
            method,
            config.url,
            headers=headers,
            body=body,
            connect_timeout=config.connect_timeout,
            read_timeout=read_timeout or config.read_timeout,
        )

    async def _relay(
        self,
        exchange: Exchange,
        response: UpstreamResponse,
        session: McpSession | None,
        request_id: RequestId | None,
        deadline: RequestDeadline | None = None,
        on_expire: Callable[[RequestTimeoutError], Awaitable[None]] | None = None,
    ) -> None:
        if response.status_code in (401, 403):
            raise UpstreamAuthFailedError(
                f"upstream server {self.server} refused Portico's credential (HTTP {response.status_code})"
            )
        headers = client_response_headers(response.header_items())
        if session is not None:
            headers[SESSION_ID_HEADER] = session.mcp_session_id
        if (response.header("content-type") or "").lower().startswith(_SSE):
            await relay_sse(
                exchange,
                response,
                headers,
                request_id=request_id,
                keepalive=self._settings.keepalive_interval,
                max_event_bytes=self._settings.max_message_bytes,
                deadline=deadline,
                on_expire=on_expire,
            )
        else:
            await relay_json(exchange, response, headers, self._settings.max_message_bytes)


async def _closing_cancels(_error: RequestTimeoutError) -> None:
    """2026-07-28: the relay closes the upstream stream, which is the cancellation."""


def _single_request_id(messages: list[JsonRpcMessage]) -> RequestId | None:
    ids = [m.id for m in messages if isinstance(m, JsonRpcRequest)]
    return ids[0] if len(ids) == 1 else None
