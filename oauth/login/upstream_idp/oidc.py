"""``type: oidc``: any OpenID provider by ``issuer`` (Okta, Microsoft Entra ID, Keycloak, Auth0, Dex).

Claims come from the verified ID token and, with ``fetch_userinfo``, from the UserInfo endpoint
(OpenID Connect Core §5.3), whose ``sub`` must equal the ID token's (§5.3.4). Claim names are
configurable: ``email_claim``, ``email_verified_claim``, ``name_claim``, ``groups_claim``. The
domain matched by ``allowed_domains`` is the verified email's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.config.login_providers import OidcProviderConfig
from oauth.client.errors import AuthorizationServerUnavailableError
from oauth.login.session.identity import UpstreamIdentity
from oauth.login.upstream_idp.claims import claim_name, claim_strings, claim_text, claim_true, plausible_email
from oauth.login.upstream_idp.errors import UnusableIdentityError
from oauth.login.upstream_idp.openid import OpenIdProvider, ResolvedProvider


class OidcProvider(OpenIdProvider):
    """A generic OpenID provider."""

    config: OidcProviderConfig

    def __init__(self, config: OidcProviderConfig) -> None:
        super().__init__(config)

    @property
    def auth_method(self) -> str:
        return self.config.auth_method

    def identity_from_claims(self, claims: Mapping[str, Any]) -> UpstreamIdentity:
        config = self.config
        email = plausible_email(claim_text(claims, config.email_claim))
        if email is None:
            raise UnusableIdentityError(f"{config.display_name} sent no email address (claim {config.email_claim})")
        return UpstreamIdentity(
            provider=config.id,
            provider_subject=str(claims["sub"]),
            email=email,
            email_verified=claim_true(claims, config.email_verified_claim),
            name=claim_name(claims, config.name_claim),
            groups=claim_strings(claims, config.groups_claim),
        )

    async def with_userinfo(
        self, resolved: ResolvedProvider, token: Mapping[str, Any], claims: dict[str, Any]
    ) -> dict[str, Any]:
        userinfo_endpoint = resolved.endpoints.userinfo_endpoint
        if not self.config.fetch_userinfo or userinfo_endpoint is None:
            return claims
        response = await resolved.client.get(userinfo_endpoint, token, headers={"accept": "application/json"})
        if response.status_code != 200:
            raise AuthorizationServerUnavailableError(f"the userinfo endpoint answered HTTP {response.status_code}")
        try:
            userinfo = response.json()
        except ValueError:
            userinfo = None
        if not isinstance(userinfo, dict):
            raise AuthorizationServerUnavailableError(
                "the userinfo response is not a JSON object (signed userinfo is not supported)"
            )
        if userinfo.get("sub") != claims["sub"]:
            raise UnusableIdentityError("the userinfo response is about another subject than the ID token")
        return {**claims, **{name: value for name, value in userinfo.items() if name not in _ID_TOKEN_ONLY}}


# Claims that only the verified ID token may set.
_ID_TOKEN_ONLY = frozenset({"iss", "sub", "aud", "azp", "exp", "iat", "nbf", "nonce", "auth_time"})
