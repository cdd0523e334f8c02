"""Upstream session recovery for Streamable HTTP upstreams: the client's session outlives the upstream's.

Portico owns the upstream session (``McpSession.upstream_session_id``, never shown to the client).
When the upstream restarts it forgets that session and answers 404 to the next request that
carries it (2025-11-25 transports §Session Management). Instead of passing the 404 on — which
ends the client's session, and the MCP SDK client does not re-initialize by itself — Portico:

1. re-initializes the upstream session with the client's recorded ``initialize`` params, then
   sends ``notifications/initialized`` (lifecycle §Initialization);
2. subscribes again to the resources the client had subscribed (:mod:`proxy.upstream.subscriptions`);
3. retries the request once, under the new upstream session id. This is safe: a 404 for an
   unknown session means the upstream did not process the request.

A refused connection (the upstream is between stop and start) is retried once after
``RETRY_PAUSE``: the request provably never reached it. A connection that breaks after the
request was sent is *not* retried (the upstream may have run it); the session recovers on the
next request's 404.

Bounded, never a loop: one recovery per request; at most ``MAX_RECOVERIES`` per session within
``RECOVERY_WINDOW`` seconds (a flapping upstream). Then, or when re-initialization is refused or
answered with an error, the client gets :class:`UpstreamSessionLostError` (-32004); an upstream
that cannot be reached at all gets -32003 (:class:`~proxy.wire.errors.UpstreamUnavailableError`).
The client's ``Mcp-Session-Id`` stays valid either way: the next request tries again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final

import anyio

from proxy.upstream.http_client import UpstreamHttpError, UpstreamResponse
from proxy.upstream.subscriptions import subscribed_uris
from proxy.wire.errors import UpstreamFailedError, UpstreamUnavailableError
from proxy.wire.mcp_sessions import McpSession
from proxy.wire.sse import SseDecoder, SseEventTooLargeError

log = logging.getLogger("portico.proxy")
MAX_RECOVERIES: Final = 3
RECOVERY_WINDOW: Final = 60.0
RETRY_PAUSE: Final = 0.5
_LOCK: Final = "recovery_lock"
_TIMES: Final = "recovery_times"

# (upstream session id or None, JSON-RPC message, the client session whose user it is sent for)
# → the upstream's streamed response.
PostUpstream = Callable[[str | None, dict[str, Any], McpSession], Awaitable[UpstreamResponse]]
# Sends the client's own request under an upstream session id (None: no session yet).
SendRequest = Callable[[str | None], Awaitable[UpstreamResponse]]


class UpstreamSessionLostError(UpstreamFailedError):
    """-32004: the upstream lost its session and Portico could not re-establish it (refused, or flapping)."""


class SessionRecovery:
    """Re-establishes lost upstream sessions of one server (one instance per :class:`HttpBackend`)."""

    def __init__(self, server: str, *, post: PostUpstream, max_message_bytes: int) -> None:
        self._server = server
        self._post = post
        self._limit = max_message_bytes

    async def send(self, session: McpSession, send: SendRequest) -> UpstreamResponse:
        """Send the client's request under the session's upstream id, recovering a lost session once.

        Raises:
            UpstreamSessionLostError: the session was lost again at once, or could not be re-established.
            UpstreamUnavailableError: the upstream is unreachable (twice, ``RETRY_PAUSE`` apart).
        """
        sent_under = session.upstream_session_id
        if sent_under is None:
            return await send(None)
        try:
            response = await send(sent_under)
        except UpstreamUnavailableError:
            await anyio.sleep(RETRY_PAUSE)  # refused: the request never reached the upstream
            sent_under = session.upstream_session_id
            response = await send(sent_under)
        if response.status_code != 404:
            return response
        await response.aclose()
        await self.recover(session, sent_under)
        retried = await send(session.upstream_session_id)
        if retried.status_code == 404:
            await retried.aclose()
            raise UpstreamSessionLostError(
                f"upstream server {self._server} lost its session again right after Portico re-initialized it"
            )
        return retried

    async def recover(self, session: McpSession, lost: str | None) -> None:
        """Replace the upstream session ``lost`` (once, however many requests found it lost).

        Raises:
            UpstreamSessionLostError / UpstreamUnavailableError: see :meth:`send`.
        """
        lock = session.attachments.setdefault(_LOCK, anyio.Lock())
        async with lock:
            if session.upstream_session_id != lost:
                return  # a concurrent request already recovered it
            self._count_recovery(session)
            log.warning("%s: upstream session lost (404); re-initializing it for the client's session", self._server)
            session.upstream_session_id = await self._initialize(session)
            initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
            await self._notify(session, session.upstream_session_id, initialized)
            for uri in subscribed_uris(session):
                await self._resubscribe(session, session.upstream_session_id, uri)

    def _count_recovery(self, session: McpSession) -> None:
        now = anyio.current_time()
        times: list[float] = [t for t in session.attachments.get(_TIMES, []) if now - t < RECOVERY_WINDOW]
        if len(times) >= MAX_RECOVERIES:
            raise UpstreamSessionLostError(
                f"upstream server {self._server} lost its session {len(times)} times within {RECOVERY_WINDOW:g} s; "
                "Portico stopped re-initializing it for now (the upstream is restarting repeatedly)"
            )
        session.attachments[_TIMES] = [*times, now]

    async def _initialize(self, session: McpSession) -> str | None:
        params = session.initialize_params or {}
        request = {"jsonrpc": "2.0", "id": "portico-recovery", "method": "initialize", "params": params}
        response = await self._post(None, request, session)
        try:
            answer = await _read_answer(response, "portico-recovery", self._limit)
        finally:
            await response.aclose()
        if response.status_code >= 300 or answer is None or "result" not in answer:
            raise UpstreamSessionLostError(
                f"upstream server {self._server} lost its session and refused to start a new one "
                f"(HTTP {response.status_code})"
            )
        return response.header("mcp-session-id")

    async def _notify(self, session: McpSession, upstream_session: str | None, message: dict[str, Any]) -> None:
        response = await self._post(upstream_session, message, session)
        await response.aclose()

    async def _resubscribe(self, session: McpSession, upstream_session: str | None, uri: str) -> None:
        request = {
            "jsonrpc": "2.0",
            "id": "portico-resubscribe",
            "method": "resources/subscribe",
            "params": {"uri": uri},
        }
        response = await self._post(upstream_session, request, session)
        try:
            answer = await _read_answer(response, "portico-resubscribe", self._limit)
        finally:
            await response.aclose()
        if answer is None or "result" not in answer:
            log.warning("%s: re-subscribing a resource after recovery failed", self._server)


async def _read_answer(response: UpstreamResponse, request_id: str, limit: int) -> dict[str, Any] | None:
    """The JSON-RPC response to ``request_id`` in a JSON or SSE body, or None."""
    sse = (response.header("content-type") or "").lower().startswith("text/event-stream")
    decoder = SseDecoder(limit)
    body = b""
    try:
        async for chunk in response.chunks():
            if not sse:
                body += chunk
                if len(body) > limit:
                    return None
                continue
            for event in decoder.feed(chunk):
                if (message := _message(event.data)) is not None and message.get("id") == request_id:
                    return message
    except (UpstreamHttpError, SseEventTooLargeError):
        return None
    message = _message(body.decode(errors="replace")) if body else None
    return message if message is not None and message.get("id") == request_id else None


def _message(data: str | None) -> dict[str, Any] | None:
    try:
        value = json.loads(data) if data else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
