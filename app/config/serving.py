"""How the ``portico serve`` process runs: ``listen``, ``limits`` and ``logging``.

See docs/configuration.md §Top level, §``limits`` and §``logging``.
"""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, field_validator, model_validator

from app.config.rate_limits import QuotaConfig, RateLimitRuleConfig, unique_names
from app.config.strict import Strict

__all__ = ["LimitsConfig", "ListenConfig", "LoggingConfig"]


class ListenConfig(Strict):
    """``listen``: where ``portico serve`` binds (docs/configuration.md §Top level)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    shutdown_grace: float = Field(default=10.0, ge=0)
    trusted_proxies: list[str] = Field(default_factory=list)
    forwarded_header: Literal["x-forwarded-for", "forwarded"] = "x-forwarded-for"
    allowed_hosts: list[str] | None = None

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or CIDR such as 10.0.0.0/8") from None
        return [str(ipaddress.ip_network(entry.strip(), strict=False)) for entry in value]

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        for host in value:
            if not host or any(c in host for c in "/@ ") or host.count(":") == 1:
                raise ValueError(f"{host!r} is not a host name without port, such as gw.example.com")
        return [host.strip().lower().strip("[]") for host in value]


class LimitsConfig(Strict):
    """``limits``: request limits, rate limits and quotas (docs/configuration.md §``limits``, docs/limits.md)."""

    max_body_bytes: int = Field(default=4 * 1024 * 1024, gt=0)
    rules: list[RateLimitRuleConfig] = Field(default_factory=list)
    quotas: list[QuotaConfig] = Field(default_factory=list)
    # With Redis: auto leases surplus bucket tokens per process (app/limits/lease.py); off: exact, one call a check.
    lease: Literal["auto", "off"] = "auto"

    @model_validator(mode="after")
    def _unique_names(self) -> LimitsConfig:
        unique_names(self.rules, self.quotas)
        return self


class LoggingConfig(Strict):
    """``logging``: level and line format of the log (docs/configuration.md §``logging``)."""

    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["text", "json"] = "text"
