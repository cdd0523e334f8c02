"""``telemetry``: OpenTelemetry traces exported over OTLP/HTTP (protobuf).

See docs/configuration.md §``telemetry``, docs/observability.md §Traces and docs/adr/0019-tracing.md.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

from app.config.strict import Strict
from app.config.value_checks import HEADER_NAME

__all__ = ["TelemetryConfig"]


class TelemetryConfig(Strict):
    """``telemetry``: where spans go and how many. Off unless ``enabled`` and ``endpoint`` are both set.

    ``endpoint`` is the full OTLP/HTTP traces URL (``http://collector:4318/v1/traces``); ``headers``
    are sent with every export (their values are secrets: never logged); ``sampling_ratio`` is the
    share of new traces kept (0–1), a parent's sampled flag is followed (parent-based sampler);
    ``timeout_seconds`` bounds one export.
    """

    enabled: bool = True
    endpoint: str | None = None
    headers: dict[str, SecretStr] = Field(default_factory=dict)
    sampling_ratio: float = Field(default=1.0, ge=0.0, le=1.0)
    service_name: str = Field(default="portico", min_length=1)
    timeout_seconds: float = Field(default=10.0, gt=0)

    @property
    def on(self) -> bool:
        """True when spans are created and exported."""
        return self.enabled and self.endpoint is not None

    @field_validator("endpoint")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL such as http://collector:4318/v1/traces")
        return value

    @field_validator("headers")
    @classmethod
    def _header_names(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for name in value:
            if not HEADER_NAME.fullmatch(name):
                raise ValueError(f"{name!r} is not an HTTP header name")
        return value
