"""Refuse ``tools/call`` to a ``user_token`` or ``oauth`` server while the user's credential is missing.

Missing is the resolver's decision (:func:`proxy.credentials.resolver.resolve`, docs/credentials.md
"Resolution order"): no usable token of their own, group token or default, no usable grant, or a
disabled user.

:class:`CredentialGuard` wraps a server's :class:`~proxy.backends.base.Backend`. Everything else —
``initialize``, ``tools/list``, resources, prompts — passes through, so a client still sees the
server's tools; only a tool call is answered with
:class:`~proxy.wire.errors.CredentialRequiredError` carrying ``<public_url>/connections?server=<name>``.

Protocol mechanism (our choice, docs/credentials.md): a plain JSON-RPC error response, in both
eras. The 2026-07-28 URL-mode elicitation (``input_required``) is optional and not used: every
client can show an error message with a URL, not every client implements URL elicitation.
The check reads the credential cache (no database on a warm call).
"""

from __future__ import annotations

from typing import Final

from proxy.backends.base import Backend
from proxy.credentials.connect import connect_url
from proxy.credentials.sources import UpstreamCredentials
from proxy.wire.errors import CredentialRequiredError
from proxy.wire.exchange import Exchange
from proxy.wire.jsonrpc import JsonRpcMessage, JsonRpcNotification, JsonRpcRequest
from proxy.wire.mcp_sessions import McpSession

GUARDED_METHODS: Final = frozenset({"tools/call"})


class CredentialGuard:
    def __init__(self, inner: Backend, *, credentials: UpstreamCredentials, public_url: str) -> None:
        self.server = inner.server
        self._inner = inner
        self._credentials = credentials
        self._connect_url = connect_url(public_url, inner.server)

    async def _check(self, subject: str, requests: list[JsonRpcRequest]) -> None:
        if any(r.method in GUARDED_METHODS for r in requests) and await self._credentials.missing(subject, self.server):
            raise CredentialRequiredError(self.server, self._connect_url)

    async def handshake_post(
        self, exchange: Exchange, session: McpSession | None, messages: list[JsonRpcMessage], body: bytes
    ) -> None:
        await self._check(exchange.subject, [m for m in messages if isinstance(m, JsonRpcRequest)])
        await self._inner.handshake_post(exchange, session, messages, body)

    async def handshake_get(self, exchange: Exchange, session: McpSession) -> None:
        await self._inner.handshake_get(exchange, session)

    async def handshake_delete(self, session: McpSession) -> None:
        await self._inner.handshake_delete(session)

    async def modern_post(self, exchange: Exchange, request: JsonRpcRequest, body: bytes) -> None:
        await self._check(exchange.subject, [request])
        await self._inner.modern_post(exchange, request, body)

    async def modern_notify(self, exchange: Exchange, notification: JsonRpcNotification, body: bytes) -> None:
        await self._inner.modern_notify(exchange, notification, body)
