"""An OpenID provider's endpoints: configured overrides, else its discovery document.

OpenID Connect Discovery 1.0: the document is at ``<issuer>/.well-known/openid-configuration``
(§4, the issuer's trailing ``/`` removed) unless ``discovery_url`` says otherwise; its ``issuer``
must equal the configured issuer exactly (§4.3), so a document served for another issuer is
refused. Every endpoint must be https, except on loopback hosts. When every endpoint is
configured, no document is fetched at all. The rules are the OAuth client's
(:mod:`oauth.client.discovery`); this module adds the provider configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from app.config.login_providers import GoogleProviderConfig, OidcProviderConfig
from oauth.client.discovery import endpoint, fetch_metadata, openid_configuration_url
from oauth.client.errors import AuthorizationServerUnavailableError, IssuerMismatchError

OpenIdProviderConfig = GoogleProviderConfig | OidcProviderConfig
DISCOVERY_DOCUMENT: Final = "discovery document"


@dataclass(frozen=True)
class OpenIdEndpoints:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None = None


def discovery_url(config: OpenIdProviderConfig) -> str:
    """Where the provider's discovery document is."""
    return config.discovery_url or openid_configuration_url(config.issuer)


async def resolve_endpoints(config: OpenIdProviderConfig) -> OpenIdEndpoints:
    """The endpoints to use; fetches the discovery document unless every endpoint is configured.

    Raises:
        AuthorizationServerUnavailableError: the document cannot be fetched, names another issuer,
            lacks an endpoint, or names one that is not https.
    """
    overrides = _overrides(config)
    document: dict[str, Any] = {}
    if any(value is None for value in overrides.values()):
        document = await _discovery_document(config)

    def resolved(name: str) -> str:
        return endpoint(overrides[name], document, name, DISCOVERY_DOCUMENT)

    return OpenIdEndpoints(
        issuer=config.issuer,
        authorization_endpoint=resolved("authorization_endpoint"),
        token_endpoint=resolved("token_endpoint"),
        jwks_uri=resolved("jwks_uri"),
        userinfo_endpoint=resolved("userinfo_endpoint") if "userinfo_endpoint" in overrides else None,
    )


async def _discovery_document(config: OpenIdProviderConfig) -> dict[str, Any]:
    try:
        return await fetch_metadata([discovery_url(config)], issuer=config.issuer, what=DISCOVERY_DOCUMENT)
    except IssuerMismatchError:
        # Names the configuration key the administrator has to check.
        raise AuthorizationServerUnavailableError(
            "the discovery document is for another issuer than login.providers[].issuer"
        ) from None


def _overrides(config: OpenIdProviderConfig) -> dict[str, str | None]:
    overrides = {
        "authorization_endpoint": config.authorize_url,
        "token_endpoint": config.token_url,
        "jwks_uri": config.jwks_uri,
    }
    if isinstance(config, OidcProviderConfig) and config.fetch_userinfo:
        overrides["userinfo_endpoint"] = config.userinfo_url
    return overrides
