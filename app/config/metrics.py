"""``metrics``: the Prometheus endpoint, on a listener of its own (docs/configuration.md §``metrics``).

``listen`` is ``host:port`` (``[v6]:port`` for IPv6); absent or empty, no metrics are collected or
served. ``/metrics`` is never served on the public origin. docs/observability.md §Metrics, ADR 0017.
"""

from __future__ import annotations

import ipaddress

from pydantic import field_validator

from app.config.strict import Strict

__all__ = ["MetricsConfig"]


class MetricsConfig(Strict):
    """``metrics.listen``: e.g. ``127.0.0.1:9464`` (the conventional port); None or ``""``: off."""

    listen: str | None = None

    @field_validator("listen")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if not value:
            return None
        host, port = split_listen(value)
        if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
            raise ValueError(f"{value!r} is not host:port, such as 127.0.0.1:9464")
        try:
            ipaddress.ip_address(host)
        except ValueError:
            if not all(part.isalnum() or "-" in part for part in host.split(".")):
                raise ValueError(f"{value!r}: {host!r} is not an IP address or host name") from None
        return value

    @property
    def enabled(self) -> bool:
        return self.listen is not None

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) of ``listen``. Raises ValueError when off."""
        if self.listen is None:
            raise ValueError("metrics are off")
        host, port = split_listen(self.listen)
        return host, int(port)


def split_listen(value: str) -> tuple[str, str]:
    """``host:port`` / ``[v6]:port`` → (host, port) as written."""
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        return host, rest.removeprefix(":")
    host, _, port = value.rpartition(":")
    return host, port
