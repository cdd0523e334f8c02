"""Request IDs: one per HTTP request, in the ``X-Request-Id`` response header, every log line and record.

An incoming ``X-Request-Id`` is kept only when the socket peer is one of ``listen.trusted_proxies``
(the same trust that decides the client address, :mod:`app.forwarded`) and the value is a sane token:
1–128 visible ASCII characters (0x21–0x7E). Anything else is replaced by a generated ID: 24 hex
characters (a per-process random prefix and a counter — no syscall per request).
:func:`current_request_id` reads it anywhere below the middleware (a contextvar).
docs/observability.md §Request IDs; docs/adr/0017-metrics-and-request-ids.md.
"""

from __future__ import annotations

import functools
import ipaddress
import itertools
import os
import re
from collections.abc import Iterable
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = b"x-request-id"
MAX_LENGTH = 128
_SANE = re.compile(rb"[\x21-\x7e]{1,128}")
_request_id: ContextVar[str | None] = ContextVar("portico_request_id", default=None)


def current_request_id() -> str | None:
    """The ID of the HTTP request being served in this context, or None outside one."""
    return _request_id.get()


class RequestIdGenerator:
    """``<12 hex random per process><12 hex counter>``: unique across processes, cheap per request."""

    def __init__(self) -> None:
        self._prefix = os.urandom(6).hex()
        self._counter = itertools.count(1)

    def __call__(self) -> str:
        return f"{self._prefix}{next(self._counter) & 0xFFFFFFFFFFFF:012x}"


def sane_request_id(value: bytes) -> str | None:
    """``value`` decoded when it is 1–128 visible ASCII characters, else None."""
    return value.decode("ascii") if _SANE.fullmatch(value) else None


class RequestIdMiddleware:
    """Pure ASGI: sets the request's ID (contextvar and ``scope["state"]["request_id"]``) and the response header.

    Install it outermost, before any forwarded-headers middleware rewrites ``scope["client"]``:
    trust is decided on the socket peer.
    """

    def __init__(self, app: ASGIApp, *, trusted_proxies: Iterable[str] = ()) -> None:
        self.app = app
        self.trusted = tuple(ipaddress.ip_network(entry, strict=False) for entry in trusted_proxies)
        self.generate = RequestIdGenerator()
        self.is_trusted = functools.lru_cache(maxsize=4096)(self._is_trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = self._accepted(scope) or self.generate()
        scope.setdefault("state", {})["request_id"] = request_id
        header = (HEADER, request_id.encode("ascii"))
        token = _request_id.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _request_id.reset(token)

    def _accepted(self, scope: Scope) -> str | None:
        if not self.trusted:
            return None
        peer = scope.get("client")
        if not peer or not self.is_trusted(peer[0]):
            return None
        value = next((v for name, v in scope["headers"] if name == HEADER), None)
        return sane_request_id(value) if value is not None else None

    def _is_trusted(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.trusted)
