"""An OpenID provider's endpoints: configured overrides, else its discovery document.

OpenID Connect Discovery 1.0: the document is at ``<issuer>/.well-known/openid-configuration``
(§4, the issuer's trailing ``/`` removed) unless ``discovery_url`` says otherwise; its ``issuer``
must equal the configured issuer exactly (§4.3), so a document served for another issuer is
refused. Every endpoint must be https, except on loopback hosts. When every endpoint is
configured, no document is fetched at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.config.login_providers import GoogleProviderConfig, OidcProviderConfig, endpoint_url
from oauth.client.errors import AuthorizationServerUnavailableError
from oauth.client.http import get_json_object

OpenIdProviderConfig = GoogleProviderConfig | OidcProviderConfig


@dataclass(frozen=True)
class OpenIdEndpoints:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None = None


def discovery_url(config: OpenIdProviderConfig) -> str:
    """Where the provider's discovery document is."""
    return config.discovery_url or config.issuer.rstrip("/") + "/.well-known/openid-configuration"


async def resolve_endpoints(config: OpenIdProviderConfig) -> OpenIdEndpoints:
    """The endpoints to use; fetches the discovery document unless every endpoint is configured.

    Raises:
        AuthorizationServerUnavailableError: the document cannot be fetched, names another issuer, lacks an
            endpoint, or names one that is not https.
    """
    overrides = _overrides(config)
    document: dict[str, Any] = {}
    if any(value is None for value in overrides.values()):
        document = await get_json_object(discovery_url(config), "discovery document")
        if document.get("issuer") != config.issuer:
            raise AuthorizationServerUnavailableError(
                "the discovery document is for another issuer than login.providers[].issuer"
            )
    resolved = {name: override or document.get(name) for name, override in overrides.items()}
    return OpenIdEndpoints(
        issuer=config.issuer,
        authorization_endpoint=_endpoint(resolved, "authorization_endpoint"),
        token_endpoint=_endpoint(resolved, "token_endpoint"),
        jwks_uri=_endpoint(resolved, "jwks_uri"),
        userinfo_endpoint=_endpoint(resolved, "userinfo_endpoint") if "userinfo_endpoint" in overrides else None,
    )


def _overrides(config: OpenIdProviderConfig) -> dict[str, str | None]:
    overrides = {
        "authorization_endpoint": config.authorize_url,
        "token_endpoint": config.token_url,
        "jwks_uri": config.jwks_uri,
    }
    if isinstance(config, OidcProviderConfig) and config.fetch_userinfo:
        overrides["userinfo_endpoint"] = config.userinfo_url
    return overrides


def _endpoint(resolved: dict[str, Any], name: str) -> str:
    value = resolved.get(name)
    if not isinstance(value, str) or not value:
        raise AuthorizationServerUnavailableError(f"the discovery document has no {name}")
    try:
        return endpoint_url(value)
    except ValueError:
        raise AuthorizationServerUnavailableError(f"the {name} is not an https URL") from None
