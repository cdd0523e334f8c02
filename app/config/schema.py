"""The configuration schema: one YAML file, every key documented in docs/configuration.md.

This module holds the root, :class:`PorticoConfig`, and re-exports the sections, each in the module
named after its concept:

- :mod:`app.config.serving`: ``listen``, ``limits``, ``logging``
- :mod:`app.config.secret_keys`: ``secrets``
- :mod:`app.config.login` and :mod:`app.config.login_providers`: ``login``, ``login.providers``
- :mod:`app.config.authorization_server`: ``oauth``
- :mod:`app.config.servers`: ``servers.<name>`` (the transports)
- :mod:`app.config.server_credentials`: ``servers.<name>.credentials``
- :mod:`app.config.upstream_identity`: ``servers.<name>.identity``
- :mod:`app.config.gateway`: ``gateway``
- :mod:`app.config.database`: ``database``
- :mod:`app.config.telemetry`: ``telemetry`` (OpenTelemetry traces)
- :mod:`app.config.audit`: ``audit``
- :mod:`app.config.policy`: ``policy``; :mod:`app.config.tool_filter`: ``servers.<name>.tools``
- :mod:`app.config.rate_limits`: ``limits.rules`` / ``limits.quotas``; :mod:`app.config.redis`: ``redis``

Every model forbids unknown keys (:class:`app.config.strict.Strict`) so that a misspelt key stops
startup instead of being ignored.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from app.config.audit import AuditConfig
from app.config.authorization_server import ClientMetadataDocumentsConfig, OAuthConfig
from app.config.database import DatabaseConfig
from app.config.gateway import GatewayConfig
from app.config.hosts import is_loopback_host
from app.config.login import LoginConfig
from app.config.login_providers import (
    DevProviderConfig,
    GithubProviderConfig,
    GoogleProviderConfig,
    OidcProviderConfig,
    ProviderConfig,
    UpstreamProviderConfig,
)
from app.config.metrics import MetricsConfig
from app.config.policy import PolicyConfig, PolicyRuleConfig, PolicyTargetsConfig
from app.config.redis import RedisConfig
from app.config.secret_keys import SecretsConfig
from app.config.server_credentials import (
    SCOPE_TOKEN,
    CredentialsConfig,
    NoCredentialsConfig,
    OAuthCredentialsConfig,
    StaticCredentialsConfig,
    UserTokenConfig,
)
from app.config.servers import (
    RESERVED_SERVER_NAMES,
    SERVER_NAME,
    TOKEN_PLACEHOLDER,
    AutoServerConfig,
    ServerConfig,
    SseServerConfig,
    StdioServerConfig,
    StreamableHttpServerConfig,
)
from app.config.serving import LimitsConfig, ListenConfig, LoggingConfig
from app.config.strict import Strict
from app.config.telemetry import TelemetryConfig
from app.config.tool_filter import ToolFilterConfig
from app.config.upstream_identity import DEFAULT_IDENTITY_HEADER, IdentityConfig
from app.config.value_checks import ENV_NAME, HEADER_NAME

__all__ = [
    "DEFAULT_IDENTITY_HEADER",
    "AuditConfig",
    "ENV_NAME",
    "HEADER_NAME",
    "RESERVED_SERVER_NAMES",
    "SCOPE_TOKEN",
    "SERVER_NAME",
    "TOKEN_PLACEHOLDER",
    "AutoServerConfig",
    "ClientMetadataDocumentsConfig",
    "CredentialsConfig",
    "DatabaseConfig",
    "DevProviderConfig",
    "GatewayConfig",
    "GithubProviderConfig",
    "GoogleProviderConfig",
    "IdentityConfig",
    "LimitsConfig",
    "ListenConfig",
    "LoggingConfig",
    "LoginConfig",
    "NoCredentialsConfig",
    "OAuthConfig",
    "OAuthCredentialsConfig",
    "OidcProviderConfig",
    "PolicyConfig",
    "PolicyRuleConfig",
    "PolicyTargetsConfig",
    "PorticoConfig",
    "ProviderConfig",
    "SecretsConfig",
    "ServerConfig",
    "SseServerConfig",
    "ToolFilterConfig",
    "StaticCredentialsConfig",
    "StdioServerConfig",
    "StreamableHttpServerConfig",
    "Strict",
    "TelemetryConfig",
    "UpstreamProviderConfig",
    "UserTokenConfig",
    "is_loopback_host",
]


class PorticoConfig(Strict):
    """The whole configuration file: its top-level keys (docs/configuration.md §Keys)."""

    public_url: str
    listen: ListenConfig = Field(default_factory=ListenConfig)
    database_url: str = "sqlite:///./portico.db"
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    secrets: SecretsConfig = Field(default_factory=SecretsConfig)
    login: LoginConfig = Field(default_factory=LoginConfig)
    oauth: OAuthConfig = Field(default_factory=OAuthConfig)
    servers: dict[str, ServerConfig] = Field(default_factory=dict)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    redis: RedisConfig = Field(default_factory=RedisConfig)
    gateway: GatewayConfig = Field(default_factory=GatewayConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    telemetry: TelemetryConfig = Field(default_factory=TelemetryConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    audit: AuditConfig = Field(default_factory=AuditConfig)

    @field_validator("public_url")
    @classmethod
    def _origin(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL such as https://gateway.example.com")
        if parts.path or parts.query or parts.fragment or value.endswith("/"):
            raise ValueError("must be an origin: no path, query, fragment or trailing slash")
        if parts.scheme == "http" and not is_loopback_host(parts.hostname):
            raise ValueError("must use https unless the host is loopback")
        return value

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        if not value.startswith(("sqlite:///", "postgresql+psycopg://")):
            raise ValueError("must start with sqlite:/// or postgresql+psycopg://")
        return value

    @field_validator("servers")
    @classmethod
    def _server_names(cls, value: dict[str, ServerConfig]) -> dict[str, ServerConfig]:
        for name in value:
            if not SERVER_NAME.match(name):
                raise ValueError(f"server name {name!r} must match {SERVER_NAME.pattern}")
            if name in RESERVED_SERVER_NAMES:
                raise ValueError(f"server name {name!r} is reserved for Portico's own routes")
        return value

    @model_validator(mode="after")
    def _dev_only_on_loopback(self) -> PorticoConfig:
        dev = any(p.type == "dev" for p in self.login.providers)
        if dev and not self.is_loopback:
            raise ValueError("login provider type 'dev' is only allowed when public_url is loopback")
        return self

    @property
    def is_loopback(self) -> bool:
        """True when ``public_url``'s host is loopback (plain http and the ``dev`` provider allowed)."""
        return is_loopback_host(urlsplit(self.public_url).hostname or "")
