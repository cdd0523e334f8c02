"""One client HTTP exchange on an MCP route, as every handler sees it."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.types import Receive, Scope, Send

from oauth.tokens.access_tokens import AccessTokenClaims
from proxy.wire.asgi import first_header
from proxy.wire.jsonrpc import RequestId


@dataclass(eq=False)
class Exchange:
    """The ASGI triple plus what the endpoint established: the server and the authenticated user.

    ``claims`` are the verified access token's (set with ``subject`` by the endpoint; the policy
    guard reads ``jwt_id``, ``client_id`` and ``expires_at``; None only before authentication).
    ``request_id`` is set once the body is known to hold one request that the gateway is about to
    serve; Portico's own errors from then on answer that id instead of ``null``.
    ``messages`` are the body's JSON-RPC messages as decoded (set by the era handlers once parsed;
    read by the request-record producer, :mod:`proxy.inbound.observed`, so it never parses twice).
    ``cancel_upstream``, when set, tells the upstream that this exchange's request is abandoned
    (used at shutdown where a client disconnect alone is not a cancellation: the handshake era).
    ``upstream_duration`` is the upstream hop in seconds (:meth:`upstream_sent` to
    :meth:`upstream_done`), None when nothing was sent upstream (e.g. answered from cache).
    """

    scope: Scope
    receive: Receive
    send: Send
    headers: list[tuple[str, str]]
    server: str
    subject: str = ""
    claims: AccessTokenClaims | None = None
    request_id: RequestId | None = None
    cancel_upstream: Callable[[], Awaitable[None]] | None = None
    messages: list[dict[str, Any]] | None = None
    upstream_duration: float | None = None
    _upstream_sent_at: float = 0.0

    def upstream_sent(self) -> None:
        """The request leaves for the upstream now (a retry restarts the clock: the hop that answered counts)."""
        self._upstream_sent_at = time.perf_counter()

    def upstream_done(self) -> None:
        """The upstream's answer has been relayed whole: the hop's duration is set."""
        if self._upstream_sent_at:
            self.upstream_duration = time.perf_counter() - self._upstream_sent_at

    def header(self, name: str) -> str | None:
        return first_header(self.headers, name)

    @property
    def method(self) -> str:
        method: str = self.scope["method"]
        return method
