"""``servers.<name>``: the upstream MCP servers, one entry per name, told apart by ``transport``.

``streamable-http``, ``sse`` and ``auto`` reach an HTTP upstream at ``url``; ``stdio`` runs a
child process. Each entry carries its ``credentials`` (:mod:`app.config.server_credentials`); the
checks here are the ones that depend on the transport: a per-user credential goes in a ``header``
of an HTTP upstream and in an ``env`` variable (or ``{token}`` in ``args``) of a stdio one.
See docs/configuration.md §``servers.<name>``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from app.config.server_credentials import (
    CredentialsConfig,
    NoCredentialsConfig,
    OAuthCredentialsConfig,
    StaticCredentialsConfig,
    UserTokenConfig,
)
from app.config.strict import Strict
from app.config.tool_filter import ToolFilterConfig
from app.config.upstream_identity import IdentityConfig
from app.config.value_checks import ENV_NAME, HEADER_NAME, require_http_url

__all__ = [
    "RESERVED_SERVER_NAMES",
    "SERVER_NAME",
    "TOKEN_PLACEHOLDER",
    "AutoServerConfig",
    "ServerConfig",
    "SseServerConfig",
    "StdioServerConfig",
    "StreamableHttpServerConfig",
]

SERVER_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
"""What a ``servers.<name>`` key must match: it is a path segment of the server's routes."""

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


class _ServerBase(Strict):
    title: str | None = None
    credentials: CredentialsConfig = Field(default_factory=lambda: StaticCredentialsConfig(type="static"))
    # Per-request deadlines (seconds); None: ``gateway.request_timeout`` / ``gateway.max_request_duration``.
    request_timeout: float | None = Field(default=None, gt=0)
    max_request_duration: float | None = Field(default=None, gt=0)
    tools: ToolFilterConfig = Field(default_factory=ToolFilterConfig)  # static filter, docs/policy.md
    # Tool-definition pinning (docs/pinning.md): what a changed or new tool definition gets.
    pinning: Literal["off", "warn", "enforce"] = "warn"
    new_tools: Literal["allow", "hold"] = "allow"
    # A signed identity JWT per request (docs/credentials.md §identity); HTTP upstreams only.
    identity: IdentityConfig | None = None

    @field_validator("pinning", mode="before")
    @classmethod
    def _unquoted_off(cls, value: object) -> object:
        # YAML 1.1 reads a bare ``off`` as false.
        return "off" if value is False else value

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
    """``servers.<name>`` with ``transport: streamable-http``: an upstream MCP server reached over Streamable HTTP.

    See docs/configuration.md §``servers.<name>``.
    """

    transport: Literal["streamable-http"]
    url: str
    headers: dict[str, SecretStr] = Field(default_factory=dict)
    connect_timeout: float = Field(default=5.0, gt=0)
    read_timeout: float = Field(default=300.0, gt=0)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return require_http_url(value)

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
        if self.identity is not None:
            clash = self._credential_header_path(self.identity.header)
            if clash is not None:
                raise ValueError(
                    f"identity.header {self.identity.header!r} is also set by {clash}; "
                    "give the identity another header (default X-Portico-Identity)"
                )
        return self

    def _credential_header_path(self, header: str) -> str | None:
        """The key path of a credential that also sets ``header`` (case-insensitive), or None."""
        wanted = header.lower()
        for name in self.headers:
            if name.lower() == wanted:
                return f"headers.{name}"
        if isinstance(self.credentials, StaticCredentialsConfig):
            for group, values in self.credentials.groups.items():
                for name in values:
                    if name.lower() == wanted:
                        return f"credentials.groups.{group}.{name}"
        token = self.per_user
        if token is not None and (token.header or "Authorization").lower() == wanted:
            return "credentials.header" if token.header is not None else "credentials.header (default Authorization)"
        return None


class SseServerConfig(StreamableHttpServerConfig):
    """``servers.<name>`` with ``transport: sse``: an upstream reached over the 2024-11-05 HTTP+SSE transport.

    See docs/configuration.md §``servers.<name>``.
    """

    transport: Literal["sse"]  # type: ignore[assignment]

    @field_validator("identity")
    @classmethod
    def _no_identity(cls, value: IdentityConfig | None) -> IdentityConfig | None:
        # One legacy SSE connection per user carries every client's calls with the headers it was opened with.
        if value is not None:
            raise ValueError(
                "identity is not available on transport 'sse' (one connection per user cannot carry "
                "each client's signed identity); use streamable-http if the server speaks it"
            )
        return value


class AutoServerConfig(StreamableHttpServerConfig):
    """``servers.<name>`` with ``transport: auto``: an upstream probed for Streamable HTTP first, then legacy SSE.

    See docs/configuration.md §``servers.<name>``.
    """

    transport: Literal["auto"]  # type: ignore[assignment]


TOKEN_PLACEHOLDER = "{token}"  # noqa: S105 - a template marker, not a secret
"""In a stdio server's ``args``: replaced by the user's rendered credential when their process starts."""


class StdioServerConfig(_ServerBase):
    """``servers.<name>`` with ``transport: stdio``: an upstream MCP server run as a child process.

    It speaks MCP over its stdin and stdout.

    See docs/configuration.md §``servers.<name>``.
    """

    transport: Literal["stdio"]
    command: str = Field(min_length=1)
    args: list[str] = Field(default_factory=list)
    env: dict[str, SecretStr] = Field(default_factory=dict)
    cwd: Path | None = None
    isolation: Literal["per_user", "shared"] = "per_user"
    idle_timeout: float = Field(default=600.0, gt=0)

    @field_validator("identity")
    @classmethod
    def _no_identity(cls, value: IdentityConfig | None) -> IdentityConfig | None:
        if value is not None:
            raise ValueError("identity is for HTTP upstreams (a header per request); a stdio server has none")
        return value

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
"""One ``servers.<name>`` entry, chosen by ``transport``."""
