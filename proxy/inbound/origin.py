"""``Origin`` validation against DNS rebinding (MCP 2025-11-25 basic/transports §Security Warning).

Requests without ``Origin`` (native clients, server-side connectors) pass; a present ``Origin``
must be Portico's own (``public_url``) or listed in ``gateway.allowed_origins``, else 403.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from proxy.wire.errors import OriginNotAllowedError


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` lower-cased, default ports dropped."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" if port in (None, default) else f"{scheme}://{host}:{port}"


class OriginPolicy:
    def __init__(self, public_url: str, allowed: Iterable[str]) -> None:
        self._allowed = {origin_of(public_url), *(origin_of(origin) for origin in allowed)}

    def check(self, origin: str | None) -> None:
        """Raises: OriginNotAllowedError when ``origin`` is present and not allowed."""
        if origin is None:
            return
        try:
            normalized = origin_of(origin.strip())
        except ValueError:
            normalized = ""
        if normalized not in self._allowed:
            raise OriginNotAllowedError("Forbidden: Origin is not allowed")
