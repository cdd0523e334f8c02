"""The client's address and scheme behind trusted reverse proxies (``listen.trusted_proxies``).

Without trusted proxies nothing is read: the socket peer is the client and forwarded headers are
ignored. With them, and only when the socket peer is one of them, the request's ``client`` and
``scheme`` are taken from the header the proxies write (``listen.forwarded_header``):

- ``x-forwarded-for`` (default): ``X-Forwarded-For`` and ``X-Forwarded-Proto``, read by uvicorn's
  ``ProxyHeadersMiddleware``;
- ``forwarded``: RFC 7239 ``Forwarded``, read by :class:`ForwardedMiddleware`.

Either way the client is the rightmost address that is not a trusted proxy: each proxy appends the
peer it saw, so entries left of the first untrusted one may be forged by the client. Only the one
header is read, because a proxy that writes one usually passes the other through untouched.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.config.serving import ListenConfig

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
SCHEMES = frozenset({"http", "https"})


def add_forwarded_headers(app: FastAPI, listen: ListenConfig) -> None:
    """Add the forwarded-headers middleware (outermost of those added so far); nothing without trusted proxies."""
    if not listen.trusted_proxies:
        return
    if listen.forwarded_header == "forwarded":
        app.add_middleware(ForwardedMiddleware, trusted=listen.trusted_proxies)
    else:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=listen.trusted_proxies)


class ForwardedMiddleware:
    """Pure ASGI: ``scope["client"]`` and ``scope["scheme"]`` from RFC 7239 ``Forwarded`` sent by trusted proxies."""

    def __init__(self, app: ASGIApp, *, trusted: Iterable[str]) -> None:
        self.app = app
        self.trusted = tuple(ipaddress.ip_network(entry, strict=False) for entry in trusted)
        self.is_trusted = functools.lru_cache(maxsize=4096)(self._is_trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self._apply(scope)
        await self.app(scope, receive, send)

    def _apply(self, scope: Scope) -> None:
        peer = scope.get("client")
        if not peer or not self.is_trusted(peer[0]):
            return
        values = [value.decode("latin-1") for name, value in scope["headers"] if name == b"forwarded"]
        if not values:
            return
        elements = [parse_element(element) for element in ",".join(values).split(",")]
        for element in reversed(elements):
            host, port = split_node(element.get("for", ""))
            if host and self.is_trusted(host):
                continue
            if host:
                scope["client"] = (host, port)
            proto = element.get("proto", "").lower()
            if proto in SCHEMES:
                scope["scheme"] = proto
            return

    def _is_trusted(self, host: str) -> bool:
        """Whether ``host`` is an IP address inside a trusted network (cached per host string)."""
        if len(host) > 45:  # longer than any IP address literal
            return False
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.trusted)


def parse_element(element: str) -> dict[str, str]:
    """``for=…;proto=…;by=…`` (RFC 7239 §4): parameter names lower-cased, quoted-string values unquoted."""
    pairs: dict[str, str] = {}
    for pair in element.split(";"):
        name, _, value = pair.strip().partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        pairs.setdefault(name.strip().lower(), value)
    return pairs


def split_node(node: str) -> tuple[str, int]:
    """RFC 7239 §6 node: ``192.0.2.1``, ``192.0.2.1:8080``, ``[2001:db8::1]:8080``, ``unknown``, ``_hidden``.

    Returns (host, port); port 0 when absent or obfuscated.
    """
    if node.startswith("["):
        host, _, rest = node[1:].partition("]")
        return host, _port(rest.removeprefix(":"))
    if node.count(":") == 1:
        host, _, port = node.partition(":")
        return host, _port(port)
    return node, 0


def _port(value: str) -> int:
    return int(value) if value.isdigit() and int(value) < 65536 else 0
