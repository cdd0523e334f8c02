"""``Host`` validation: requests naming a host Portico does not serve are answered 400 (``listen.allowed_hosts``).

A request whose ``Host`` (RFC 9110 §7.2) is not one of Portico's names was misdirected, or is a
DNS-rebinding attempt from a browser (an attacker's name resolving to Portico's address). The
default set is ``public_url``'s host, plus ``localhost``, ``127.0.0.1`` and ``::1`` when that host
is loopback. Ports are not compared: the name is what a rebinding attack changes, and a reverse
proxy may reach Portico on another port. A request without ``Host`` (HTTP/1.0) is refused too.
``/healthz`` and ``/readyz`` answer any host: container and load-balancer probes call them by
address, and they reveal nothing.

The answer is 400 with Portico's ``{"error": "invalid_request", "error_description"}`` body; the
host sent is not echoed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from app.config import PorticoConfig
from app.config.hosts import is_loopback_host

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
PROBE_PATHS = frozenset({"/healthz", "/readyz"})
_BODY = json.dumps({"error": "invalid_request", "error_description": "the Host header names no host served here"})
_REFUSAL_BODY = _BODY.encode()
_REFUSAL_HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(_REFUSAL_BODY)).encode()),
    (b"cache-control", b"no-store"),
]


def allowed_hosts(config: PorticoConfig) -> frozenset[str]:
    """The configured ``listen.allowed_hosts``, or the default derived from ``public_url`` (lower-case, no port)."""
    if config.listen.allowed_hosts is not None:
        return frozenset(config.listen.allowed_hosts)
    host = (urlsplit(config.public_url).hostname or "").lower()
    return frozenset({host, *LOOPBACK_HOSTS}) if is_loopback_host(host) else frozenset({host})


def host_name(value: bytes) -> str:
    """The name part of a ``Host`` value (``uri-host [ ":" port ]``), lower-case, IPv6 brackets removed."""
    text = value.decode("latin-1").strip().lower()
    if text.startswith("["):
        return text[1 : text.find("]")] if "]" in text else text
    return text.rsplit(":", 1)[0] if ":" in text else text


class AllowedHostsMiddleware:
    """Pure ASGI; ``hosts`` are lower-case names without port. One header scan and a set lookup per request."""

    def __init__(self, app: ASGIApp, *, hosts: Iterable[str]) -> None:
        self.app = app
        self.hosts = frozenset(hosts)
        self._seen: dict[bytes, bool] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._allowed(scope) or scope["path"] in PROBE_PATHS:
            await self.app(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 400, "headers": _REFUSAL_HEADERS})
        await send({"type": "http.response.body", "body": _REFUSAL_BODY})

    def _allowed(self, scope: Scope) -> bool:
        value = None
        for name, header in scope["headers"]:
            if name == b"host":
                if value is not None:
                    return False  # two Host headers (RFC 9112 §3.2: 400)
                value = header
        if value is None:
            return False
        known = self._seen.get(value)
        if known is None:
            known = host_name(value) in self.hosts
            if known and len(self._seen) < 64:  # only allowed values: attackers choose the others
                self._seen[value] = known
        return known
