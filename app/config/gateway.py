"""``gateway``: the bounds of the MCP data plane (``proxy/``).

See docs/configuration.md §``gateway``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, field_validator

from app.config.strict import Strict

__all__ = ["GatewayConfig"]


class GatewayConfig(Strict):
    """``gateway``: the MCP data plane (``proxy/``): sessions, streams, stdio process caps, upstream connection pool.

    Times are seconds. Every key has a default; see docs/configuration.md §``gateway`` for what
    each one bounds.
    """

    allowed_origins: list[str] = Field(default_factory=list)
    keepalive_interval: float = Field(default=15.0, gt=0)
    session_idle_timeout: float = Field(default=1800.0, gt=0)
    max_sessions: int = Field(default=10_000, gt=0)
    max_sessions_per_user: int = Field(default=100, gt=0)
    max_processes: int = Field(default=200, gt=0)
    max_processes_per_user: int = Field(default=10, gt=0)
    process_start_timeout: float = Field(default=30.0, gt=0)
    process_kill_grace: float = Field(default=5.0, gt=0)
    stream_buffer_messages: int = Field(default=256, gt=0)
    max_message_bytes: int = Field(default=16 * 1024 * 1024, gt=0)
    credential_cache_seconds: float = Field(default=60.0, gt=0)
    http_max_connections: int = Field(default=200, gt=0)
    http_max_keepalive_connections: int = Field(default=50, ge=0)
    http_keepalive_expiry: float = Field(default=30.0, gt=0)
    request_timeout: float = Field(default=300.0, gt=0)
    max_request_duration: float = Field(default=3600.0, gt=0)

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
                raise ValueError(f"{origin!r} is not an origin such as https://app.example.com")
        return [origin.rstrip("/").lower() for origin in value]
