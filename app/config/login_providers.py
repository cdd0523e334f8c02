"""The ``login.providers`` entries: which upstream IdPs users sign in with, and how to reach them.

Four types, told apart by ``type``:

- ``dev``: a form on which any email is typed (loopback deployments only).
- ``google``: Google sign-in (OpenID Connect by discovery); the Workspace domain is the ``hd`` claim.
- ``oidc``: any OpenID provider by ``issuer`` (Okta, Microsoft Entra ID, Keycloak, Auth0, Dex, ...).
- ``github``: a GitHub OAuth app; email from the primary verified address, organisations for ``allowed_orgs``.

Every endpoint URL is overridable, which is how tests point Google and GitHub at local stand-ins.
Endpoint URLs must be https, except on loopback hosts. A provider's ``id`` names its routes
(``/login/<id>``, ``/login/callback/<id>``) and its users; it is unique and URL-safe.
See docs/configuration.md §``login.providers``.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, SecretStr, field_validator, model_validator

from app.config.hosts import is_loopback_host
from app.config.strict import Strict

PROVIDER_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
# ``/login/callback/<id>`` is the upstream IdPs' return path.
RESERVED_PROVIDER_IDS = frozenset({"callback"})
_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")


def endpoint_url(value: str) -> str:
    """An absolute https URL (http only for a loopback host), without fragment or credentials."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute https URL")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ValueError("must use https unless the host is loopback")
    if parts.fragment or parts.username or parts.password:
        raise ValueError("must not contain a fragment or credentials")
    return value


EndpointUrl = Annotated[str, AfterValidator(endpoint_url)]


class _ProviderBase(Strict):
    id: str
    display_name: str

    @field_validator("id")
    @classmethod
    def _safe_id(cls, value: str) -> str:
        if not PROVIDER_ID.match(value):
            raise ValueError(f"provider id {value!r} must match {PROVIDER_ID.pattern}")
        if value in RESERVED_PROVIDER_IDS:
            raise ValueError(f"provider id {value!r} is reserved")
        return value


class DevProviderConfig(_ProviderBase):
    """``login.providers.<n>`` with ``type: dev``: local-only sign-in, a form on which any email is typed.

    Refused unless public_url is loopback. See docs/configuration.md §``login.providers``.
    """

    type: Literal["dev"]
    id: str = "dev"
    display_name: str = "Development sign-in"


class _UpstreamProviderBase(_ProviderBase):
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    scopes: list[str]
    # Admit users whose email the IdP has not verified. Lets anyone who can type an address into
    # the IdP claim it: only for IdPs that never send email_verified and vouch for every address.
    insecure_allow_unverified_email: bool = False
    authorize_url: EndpointUrl | None = None
    token_url: EndpointUrl | None = None


class _OpenIdProviderBase(_UpstreamProviderBase):
    issuer: EndpointUrl
    # Default: ``<issuer>/.well-known/openid-configuration`` (OpenID Connect Discovery 1.0 §4).
    discovery_url: EndpointUrl | None = None
    jwks_uri: EndpointUrl | None = None
    scopes: list[str] = Field(default_factory=lambda: ["openid", "email", "profile"])

    @field_validator("scopes")
    @classmethod
    def _openid_scope(cls, value: list[str]) -> list[str]:
        if "openid" not in value:
            raise ValueError("must include openid")
        return value


class GoogleProviderConfig(_OpenIdProviderBase):
    """``login.providers.<n>`` with ``type: google``: sign in with Google.

    ``hosted_domain`` preselects a Workspace domain and is enforced on ``hd``.
    See docs/configuration.md §``type: google``.
    """

    type: Literal["google"]
    id: str = "google"
    display_name: str = "Google"
    issuer: EndpointUrl = "https://accounts.google.com"
    hosted_domain: str | None = None
    # Google's signing certificates (PEM by key id), read by google-auth; a stand-in's in tests.
    certs_url: EndpointUrl = "https://www.googleapis.com/oauth2/v1/certs"

    @field_validator("hosted_domain")
    @classmethod
    def _domain(cls, value: str | None) -> str | None:
        if value is not None and not _DOMAIN.match(value.lower()):
            raise ValueError("must be a domain name such as example.com")
        return value.lower() if value else None


class OidcProviderConfig(_OpenIdProviderBase):
    """``login.providers.<n>`` with ``type: oidc``: any OpenID provider.

    Authorization code + PKCE + nonce, ID token verified against its JWKS.
    See docs/configuration.md §``type: oidc``.
    """

    type: Literal["oidc"]
    id: str = "oidc"
    display_name: str = "Single sign-on"
    client_secret: SecretStr | None = None  # type: ignore[assignment]
    # Default: client_secret_basic with a secret, none (a public client, PKCE only) without.
    token_endpoint_auth_method: Literal["client_secret_basic", "client_secret_post", "none"] | None = None
    userinfo_url: EndpointUrl | None = None
    fetch_userinfo: bool = False
    email_claim: str = Field(default="email", min_length=1)
    email_verified_claim: str = Field(default="email_verified", min_length=1)
    name_claim: str = Field(default="name", min_length=1)
    groups_claim: str = Field(default="groups", min_length=1)

    @model_validator(mode="after")
    def _secret_for_auth_method(self) -> OidcProviderConfig:
        if self.token_endpoint_auth_method not in (None, "none") and self.client_secret is None:
            raise ValueError(f"token_endpoint_auth_method {self.token_endpoint_auth_method} needs a client_secret")
        return self

    @property
    def auth_method(self) -> str:
        """The token endpoint authentication method in effect."""
        if self.token_endpoint_auth_method is not None:
            return self.token_endpoint_auth_method
        return "client_secret_basic" if self.client_secret is not None else "none"


class GithubProviderConfig(_UpstreamProviderBase):
    """``login.providers.<n>`` with ``type: github``: a GitHub OAuth app.

    github.com, or GitHub Enterprise Server through the URL keys.
    See docs/configuration.md §``type: github``.
    """

    type: Literal["github"]
    id: str = "github"
    display_name: str = "GitHub"
    scopes: list[str] = Field(default_factory=lambda: ["read:user", "user:email", "read:org"])
    authorize_url: EndpointUrl = "https://github.com/login/oauth/authorize"
    token_url: EndpointUrl = "https://github.com/login/oauth/access_token"  # noqa: S105 - a URL
    api_base_url: EndpointUrl = "https://api.github.com"


UpstreamProviderConfig = GoogleProviderConfig | OidcProviderConfig | GithubProviderConfig
ProviderConfig = Annotated[
    DevProviderConfig | GoogleProviderConfig | OidcProviderConfig | GithubProviderConfig,
    Field(discriminator="type"),
]
"""One ``login.providers.<n>`` entry, chosen by ``type``."""
