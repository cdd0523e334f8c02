"""``servers.<name>.credentials``: what Portico presents to an upstream server, per server.

Four kinds, told apart by ``type`` (docs/configuration.md §``servers.<name>``, docs/credentials.md):
``none``, ``static`` (the default: the server's configured ``headers``/``env``), ``user_token``
(each user's own pasted token) and ``oauth`` (the access token of each user's OAuth grant at the
upstream's authorization server). Whether a kind fits the server's transport (``header`` for HTTP
upstreams, ``env`` for stdio) is checked by the server models in :mod:`app.config.servers`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, TypeVar

from pydantic import Field, SecretStr, field_validator, model_validator

from app.config.login_providers import endpoint_url
from app.config.strict import Strict
from app.config.value_checks import ENV_NAME, HEADER_NAME, require_http_url

__all__ = [
    "SCOPE_TOKEN",
    "CredentialsConfig",
    "NoCredentialsConfig",
    "OAuthCredentialsConfig",
    "StaticCredentialsConfig",
    "UserTokenConfig",
]

_GroupMap = TypeVar("_GroupMap", bound=dict[str, Any])
SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")
"""One RFC 6749 §3.3 scope token: printable ASCII without space, ``"`` or ``\\``."""


class NoCredentialsConfig(Strict):
    """``servers.<name>.credentials: none``: Portico presents nothing upstream (no ``headers``/``env`` allowed).

    See docs/credentials.md and docs/configuration.md §``servers.<name>``.
    """

    type: Literal["none"]


class StaticCredentialsConfig(Strict):
    """``servers.<name>.credentials: static`` (the default): the server's configured ``headers``/``env``.

    The same for every user, except that ``groups`` maps an IdP group to key values that replace
    (or add to) ``headers``/``env`` for its members: per key, the first listed group the user
    belongs to wins over the configured value.
    See docs/credentials.md §Group and default values and docs/configuration.md §``servers.<name>``.
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
    """``servers.<name>.credentials: {type: user_token, ...}``: each user pastes their own token on ``/connections``.

    Per key the user's own token wins over ``groups`` (IdP group → token, the first listed group
    the user belongs to) over ``default``; a user with none of them has not connected.

    The token is rendered through ``format`` (``{token}`` is replaced) and sent as the ``header``
    of a Streamable HTTP upstream (default ``Authorization``) or put in the ``env`` variable of a
    stdio upstream. ``pattern`` (a full-match regex) validates what the user pastes.
    See docs/credentials.md §``user_token`` and docs/configuration.md §``servers.<name>``.
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
        return None if value is None else require_http_url(value)


class OAuthCredentialsConfig(_InjectedCredential):
    """``servers.<name>.credentials: {type: oauth, ...}``: Portico is the user's OAuth client towards the upstream.

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
    (internal or test hosts only). See docs/credentials.md §``oauth`` and docs/configuration.md
    §``servers.<name>``.
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
"""``servers.<name>.credentials``: one of the four kinds, chosen by ``type``."""
