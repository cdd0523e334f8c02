"""The configuration schema: one YAML file, every key documented in docs/configuration.md.

Every model forbids unknown keys so that a misspelt key stops startup instead of being ignored.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from app.config.hosts import is_loopback_host
from app.config.login_providers import (
    DevProviderConfig,
    GithubProviderConfig,
    GoogleProviderConfig,
    OidcProviderConfig,
    ProviderConfig,
    UpstreamProviderConfig,
    endpoint_url,
)

__all__ = [
    "DevProviderConfig",
    "GithubProviderConfig",
    "GoogleProviderConfig",
    "LoginConfig",
    "OidcProviderConfig",
    "PorticoConfig",
    "ProviderConfig",
    "UpstreamProviderConfig",
    "is_loopback_host",
]

SERVER_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_GroupMap = TypeVar("_GroupMap", bound=dict[str, Any])
SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")
# Names that would collide with Portico's own routes at the origin root.
RESERVED_SERVER_NAMES = frozenset(
    {
        "authorize",
        "token",
        "register",
        "revoke",
        "introspect",
        "jwks",
        "login",
        "logout",
        "consent",
        "connections",
        "healthz",
        "readyz",
        "static",
        "metrics",
    }
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ListenConfig(Strict):
    """Where ``portico serve`` binds."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)


class SecretsConfig(Strict):
    """The root secret key (``PORTICO_SECRET_KEY``) and its predecessors for rotation.

    Each key is ≥ 32 random bytes, base64. ``secret_key`` or ``secret_key_file`` wins over the
    ``PORTICO_SECRET_KEY`` / ``PORTICO_SECRET_KEY_FILE`` environment variables.
    """

    secret_key: SecretStr | None = None
    secret_key_file: Path | None = None
    previous_keys: list[SecretStr] = Field(default_factory=list)
    generated_key_file: Path = Path(".portico/secret.key")


class LoginConfig(Strict):
    """Who may sign in: identity providers and access rules (any rule admitting a user suffices)."""

    providers: list[ProviderConfig] = Field(default_factory=list)
    allowed_domains: list[str] = Field(default_factory=list)
    allowed_emails: list[str] = Field(default_factory=list)
    allowed_groups: list[str] = Field(default_factory=list)
    allowed_orgs: list[str] = Field(default_factory=list)
    allow_any_user: bool = False
    session_idle_seconds: int = Field(default=8 * 3600, gt=0)
    session_absolute_seconds: int = Field(default=7 * 24 * 3600, gt=0)

    @field_validator("providers")
    @classmethod
    def _unique_ids(cls, value: list[ProviderConfig]) -> list[ProviderConfig]:
        seen: set[str] = set()
        for provider in value:
            if provider.id in seen:
                raise ValueError(f"provider id {provider.id!r} is used twice: give each provider its own id")
            seen.add(provider.id)
        return value

    @model_validator(mode="after")
    def _rules_required(self) -> LoginConfig:
        has_rules = self.allowed_domains or self.allowed_emails or self.allowed_groups or self.allowed_orgs
        if self.providers and not has_rules and not self.allow_any_user:
            raise ValueError(
                "no access rule: set allowed_domains, allowed_emails, allowed_groups or allowed_orgs, "
                "or allow_any_user: true to admit everyone the providers sign in"
            )
        return self

    def provider(self, provider_id: str) -> ProviderConfig | None:
        """The configured provider with this id, or None."""
        return next((p for p in self.providers if p.id == provider_id), None)


class ClientMetadataDocumentsConfig(Strict):
    """Fetching Client ID Metadata Documents (clients whose ``client_id`` is an https URL)."""

    enabled: bool = True
    # Hosts exempt from the SSRF address check (and allowed over http): internal or test hosts only.
    allow_hosts: list[str] = Field(default_factory=list)
    # Extra CA bundle for fetching documents from hosts with a private CA.
    ca_file: Path | None = None


class OAuthConfig(Strict):
    """The authorization server's lifetimes (seconds) and registration policy."""

    access_token_lifetime: int = Field(default=3600, gt=0)
    refresh_token_lifetime: int = Field(default=30 * 24 * 3600, gt=0)
    # Seconds a just-rotated refresh token may be presented again (concurrent refreshes); 0 = never.
    refresh_token_reuse_grace: int = Field(default=10, ge=0, le=60)
    authorization_code_lifetime: int = Field(default=60, gt=0, le=600)
    allowed_redirect_uris: list[str] = Field(default_factory=list)
    client_idle_days: int = Field(default=90, gt=0)
    registrations_per_minute: int = Field(default=20, gt=0)
    client_metadata_documents: ClientMetadataDocumentsConfig = Field(default_factory=ClientMetadataDocumentsConfig)


class NoCredentialsConfig(Strict):
    """``credentials: none``: Portico presents nothing upstream (no ``headers``/``env`` allowed)."""

    type: Literal["none"]


class StaticCredentialsConfig(Strict):
    """``credentials: static`` (the default): the server's configured ``headers``/``env``, same for every user.

    ``groups`` maps an IdP group to key values that replace (or add to) ``headers``/``env`` for
    its members: per key, the first listed group the user belongs to wins over the configured value.
    """

    type: Literal["static"]
    groups: dict[str, dict[str, SecretStr]] = Field(default_factory=dict)

    @field_validator("groups")
    @classmethod
    def _group_names(cls, value: dict[str, dict[str, SecretStr]]) -> dict[str, dict[str, SecretStr]]:
        return _check_group_names(value)


def _check_group_names(value: _GroupMap) -> _GroupMap:
    for name in value:
        if not name.strip():
            raise ValueError("a group name must not be empty")
    return value


def _token_template(value: str) -> str:
    rest = value.replace("{token}", "")
    if value.count("{token}") != 1 or "{" in rest or "}" in rest:
        raise ValueError("format must contain {token} exactly once and no other braces, e.g. 'Bearer {token}'")
    return value


def _header_name(value: str | None) -> str | None:
    if value is not None and not HEADER_NAME.match(value):
        raise ValueError(f"header {value!r} is not an HTTP header name")
    return value


def _env_name(value: str | None) -> str | None:
    if value is not None and not ENV_NAME.match(value):
        raise ValueError(f"env {value!r} is not an environment variable name such as GITHUB_TOKEN")
    return value


class _InjectedCredential(Strict):
    """What user_token and oauth share: how the user's value is rendered (``format``) and where it goes
    (``header`` for HTTP upstreams, ``env`` for stdio)."""

    format: str = "{token}"
    header: str | None = None
    env: str | None = None

    @field_validator("format")
    @classmethod
    def _template(cls, value: str) -> str:
        return _token_template(value)

    @field_validator("header")
    @classmethod
    def _header_name(cls, value: str | None) -> str | None:
        return _header_name(value)

    @field_validator("env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        return _env_name(value)

    def render(self, token: str) -> str:
        """The value presented upstream for ``token``."""
        return self.format.replace("{token}", token)


class UserTokenConfig(_InjectedCredential):
    """``credentials: {type: user_token, ...}``: each user pastes their own token on ``/connections``.

    Per key the user's own token wins over ``groups`` (IdP group → token, the first listed group
    the user belongs to) over ``default``; a user with none of them has not connected.

    The token is rendered through ``format`` (``{token}`` is replaced) and sent as the ``header``
    of a Streamable HTTP upstream (default ``Authorization``) or put in the ``env`` variable of a
    stdio upstream. ``pattern`` (a full-match regex) validates what the user pastes.
    """

    type: Literal["user_token"]
    pattern: str | None = None
    help_text: str | None = None
    help_url: str | None = None
    format: str = "{token}"
    default: SecretStr | None = None
    groups: dict[str, SecretStr] = Field(default_factory=dict)

    @field_validator("groups")
    @classmethod
    def _group_names(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        return _check_group_names(value)

    @field_validator("pattern")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as error:
                raise ValueError(f"pattern is not a valid regular expression: {error}") from None
        return value

    @field_validator("help_url")
    @classmethod
    def _help_url(cls, value: str | None) -> str | None:
        return None if value is None else _require_http_url(value)


class OAuthCredentialsConfig(_InjectedCredential):
    """``credentials: {type: oauth, ...}``: Portico is the user's OAuth client towards the upstream.

    Each user connects on ``/connections``: the authorization-code grant with PKCE S256
    (RFC 6749 §4.1, RFC 7636) at ``authorization_endpoint``, the code redeemed at
    ``token_endpoint`` with ``client_id``/``client_secret`` (``token_endpoint_auth_method``,
    RFC 7591 §2). The endpoints come from the configuration or, with ``issuer``, from the issuer's
    metadata (RFC 8414 ``/.well-known/oauth-authorization-server``, else OpenID Connect Discovery);
    a configured endpoint wins over a discovered one. The access token is rendered through
    ``format`` and sent as ``header`` (HTTP upstreams, default ``Authorization``) or put in ``env``
    (stdio); it is refreshed ``refresh_margin`` seconds before it expires. ``resource`` is sent as
    the RFC 8707 resource indicator when set.

    ``discover: true`` (an upstream MCP server with its own OAuth, HTTP upstreams only): no client
    or endpoints are configured; Portico reads the server's protected resource metadata (RFC 9728),
    its authorization server's metadata (RFC 8414), identifies itself there and sends the server's
    ``resource``. ``registration`` picks how Portico identifies itself: ``cimd`` — the URL of the
    Client ID Metadata Document Portico serves (``<public_url>/connections/oauth-client.json``);
    ``dcr`` — RFC 7591 dynamic registration, stored per authorization server; ``auto`` (default) —
    ``cimd`` when the authorization server advertises ``client_id_metadata_document_supported``
    and ``public_url`` is https (the server must be able to fetch the document), else ``dcr``.
    ``discovery_allow_hosts`` exempts hosts from the SSRF address check of those fetches
    (internal or test hosts only).
    """

    type: Literal["oauth"]
    discover: bool = False
    registration: Literal["auto", "cimd", "dcr"] = "auto"
    discovery_allow_hosts: list[str] = Field(default_factory=list)
    client_id: str | None = Field(default=None, min_length=1)
    client_secret: SecretStr | None = None
    token_endpoint_auth_method: Literal["client_secret_basic", "client_secret_post", "none"] | None = None
    issuer: str | None = None
    authorization_endpoint: str | None = None
    token_endpoint: str | None = None
    revocation_endpoint: str | None = None
    scopes: list[str] = Field(default_factory=list)
    resource: str | None = None
    format: str = "Bearer {token}"
    refresh_margin: int = Field(default=60, ge=0, le=3600)

    @field_validator("issuer", "authorization_endpoint", "token_endpoint", "revocation_endpoint", "resource")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        return None if value is None else endpoint_url(value)

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, value: list[str]) -> list[str]:
        for scope in value:
            if not scope or not SCOPE_TOKEN.match(scope):
                raise ValueError(f"scope {scope!r} is not an RFC 6749 §3.3 scope token (no spaces or quotes)")
        return value

    @model_validator(mode="after")
    def _endpoints_known(self) -> OAuthCredentialsConfig:
        if self.discover:
            configured = [
                name
                for name in ("client_id", "client_secret", "issuer", "authorization_endpoint", "token_endpoint")
                if getattr(self, name) is not None
            ]
            if configured:
                raise ValueError(f"discover: true registers its own client; remove {', '.join(configured)}")
            return self
        if self.registration != "auto":
            raise ValueError("registration applies to discover: true only (this client is configured)")
        if self.client_id is None:
            raise ValueError("client_id is required (or discover: true for an MCP server with its own OAuth)")
        if self.issuer is None and (self.authorization_endpoint is None or self.token_endpoint is None):
            raise ValueError("set issuer (endpoints by discovery) or both authorization_endpoint and token_endpoint")
        if self.auth_method == "none" and self.client_secret is not None:
            raise ValueError("token_endpoint_auth_method 'none' takes no client_secret")
        if self.auth_method != "none" and self.client_secret is None:
            raise ValueError(f"token_endpoint_auth_method {self.auth_method!r} needs client_secret, e.g. '${{VAR}}'")
        return self

    @property
    def auth_method(self) -> str:
        """The client authentication: as configured, else ``client_secret_basic`` with a secret, ``none`` without."""
        if self.token_endpoint_auth_method is not None:
            return self.token_endpoint_auth_method
        return "none" if self.client_secret is None else "client_secret_basic"


CredentialsConfig = Annotated[
    NoCredentialsConfig | StaticCredentialsConfig | UserTokenConfig | OAuthCredentialsConfig,
    Field(discriminator="type"),
]


class _ServerBase(Strict):
    title: str | None = None
    credentials: CredentialsConfig = Field(default_factory=lambda: StaticCredentialsConfig(type="static"))

    @field_validator("credentials", mode="before")
    @classmethod
    def _kind_shorthand(cls, value: object) -> object:
        # ``credentials: none`` / ``static`` / ``user_token`` as a bare string.
        return {"type": value} if isinstance(value, str) else value

    @property
    def user_token(self) -> UserTokenConfig | None:
        """The ``user_token`` settings when this server takes a per-user token."""
        return self.credentials if isinstance(self.credentials, UserTokenConfig) else None

    @property
    def oauth(self) -> OAuthCredentialsConfig | None:
        """The ``oauth`` settings when Portico connects each user's account by OAuth."""
        return self.credentials if isinstance(self.credentials, OAuthCredentialsConfig) else None

    @property
    def per_user(self) -> UserTokenConfig | OAuthCredentialsConfig | None:
        """The per-user credential settings (``user_token`` or ``oauth``), or None."""
        return self.credentials if isinstance(self.credentials, UserTokenConfig | OAuthCredentialsConfig) else None


class StreamableHttpServerConfig(_ServerBase):
    """An upstream MCP server reached over Streamable HTTP."""

    transport: Literal["streamable-http"]
    url: str
    headers: dict[str, SecretStr] = Field(default_factory=dict)
    connect_timeout: float = Field(default=5.0, gt=0)
    read_timeout: float = Field(default=300.0, gt=0)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return _require_http_url(value)

    @model_validator(mode="after")
    def _credentials_fit(self) -> StreamableHttpServerConfig:
        if isinstance(self.credentials, NoCredentialsConfig) and self.headers:
            raise ValueError("credentials 'none' takes no headers; remove them or use credentials 'static'")
        if isinstance(self.credentials, StaticCredentialsConfig):
            for group, values in self.credentials.groups.items():
                for key in values:
                    if not HEADER_NAME.match(key):
                        raise ValueError(f"credentials.groups.{group}: {key!r} is not an HTTP header name")
        token = self.per_user
        if token is not None:
            if token.env is not None:
                raise ValueError("credentials.env is for stdio servers; an HTTP upstream takes credentials.header")
            header = (token.header or "Authorization").lower()
            if header in {name.lower() for name in self.headers}:
                raise ValueError(f"credentials.header {header!r} is also a configured header")
        return self


class SseServerConfig(StreamableHttpServerConfig):
    """An upstream reached over the 2024-11-05 HTTP+SSE transport."""

    transport: Literal["sse"]  # type: ignore[assignment]


class AutoServerConfig(StreamableHttpServerConfig):
    """An upstream probed for Streamable HTTP first, then legacy SSE."""

    transport: Literal["auto"]  # type: ignore[assignment]


TOKEN_PLACEHOLDER = "{token}"  # noqa: S105 - a template marker, not a secret
"""In a stdio server's ``args``: replaced by the user's rendered credential when their process starts."""


class StdioServerConfig(_ServerBase):
    """An upstream MCP server run as a child process speaking MCP over stdio."""

    transport: Literal["stdio"]
    command: str = Field(min_length=1)
    args: list[str] = Field(default_factory=list)
    env: dict[str, SecretStr] = Field(default_factory=dict)
    cwd: Path | None = None
    isolation: Literal["per_user", "shared"] = "per_user"
    idle_timeout: float = Field(default=600.0, gt=0)

    @model_validator(mode="after")
    def _credentials_fit(self) -> StdioServerConfig:
        if isinstance(self.credentials, NoCredentialsConfig) and self.env:
            raise ValueError("credentials 'none' takes no env; remove it or use credentials 'static'")
        if isinstance(self.credentials, StaticCredentialsConfig) and self.credentials.groups:
            if self.isolation == "shared":
                raise ValueError("isolation 'shared' is not allowed with per-group values (credentials.groups)")
            for group, values in self.credentials.groups.items():
                for key in values:
                    if not ENV_NAME.match(key):
                        raise ValueError(f"credentials.groups.{group}: {key!r} is not an environment variable name")
        token = self.per_user
        templated = any(TOKEN_PLACEHOLDER in arg for arg in self.args)
        if token is None and templated:
            raise ValueError(
                "args contain {token}, but only a server with credentials user_token or oauth has a token to put there"
            )
        if token is not None:
            if token.header is not None:
                raise ValueError("credentials.header is for HTTP upstreams; a stdio server takes credentials.env")
            if token.env is None and not templated:
                raise ValueError(
                    "credentials.env must name the variable that carries the user's token "
                    "(or an entry of args must contain {token})"
                )
            if token.env is not None and token.env in self.env:
                raise ValueError(f"credentials.env {token.env!r} is also a configured env key")
            if self.isolation == "shared":
                raise ValueError(f"isolation 'shared' is not allowed with per-user credentials ({token.type})")
            if isinstance(token, OAuthCredentialsConfig) and token.discover:
                raise ValueError("credentials.discover is for HTTP upstreams (an MCP server with its own OAuth)")
        return self


ServerConfig = Annotated[
    StreamableHttpServerConfig | SseServerConfig | AutoServerConfig | StdioServerConfig,
    Field(discriminator="transport"),
]


class LimitsConfig(Strict):
    """Request limits."""

    max_body_bytes: int = Field(default=4 * 1024 * 1024, gt=0)


class GatewayConfig(Strict):
    """The MCP data plane (``proxy/``): sessions, streams, stdio process caps, upstream connection pool.

    Times are seconds. Every key has a default; see docs/_gateway.md for what each one bounds.
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

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
                raise ValueError(f"{origin!r} is not an origin such as https://app.example.com")
        return [origin.rstrip("/").lower() for origin in value]


class LoggingConfig(Strict):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["text", "json"] = "text"


class PorticoConfig(Strict):
    """The whole configuration file."""

    public_url: str
    listen: ListenConfig = Field(default_factory=ListenConfig)
    database_url: str = "sqlite:///./portico.db"
    secrets: SecretsConfig = Field(default_factory=SecretsConfig)
    login: LoginConfig = Field(default_factory=LoginConfig)
    oauth: OAuthConfig = Field(default_factory=OAuthConfig)
    servers: dict[str, ServerConfig] = Field(default_factory=dict)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    gateway: GatewayConfig = Field(default_factory=GatewayConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)

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
        return is_loopback_host(urlsplit(self.public_url).hostname or "")


def _require_http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http(s) URL")
    return value
