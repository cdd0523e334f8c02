"""The interface every upstream IdP adapter implements (Google, any OpenID provider, GitHub)."""

from __future__ import annotations

from typing import Protocol

from oauth.client.flow import UpstreamFlow
from oauth.login.session.identity import UpstreamIdentity


class UpstreamIdentityProvider(Protocol):
    """One configured provider. ``provider_id`` names its routes and its users."""

    provider_id: str
    display_name: str

    def accepts_issuer(self, iss: str) -> bool:
        """Whether an authorization response's ``iss`` parameter (RFC 9207 §2.4) names this IdP."""
        ...

    async def authorization_url(self, flow: UpstreamFlow, *, redirect_uri: str, prompt: str | None = None) -> str:
        """Where to send the browser to sign in (RFC 6749 §4.1.1).

        ``prompt`` (``login`` or ``select_account``) asks the IdP to sign the user in again
        (:mod:`.prompt`; OIDC Core §3.1.2.1).

        Raises:
            OAuthClientError: the IdP's endpoints cannot be resolved.
        """
        ...

    async def identity(self, *, code: str, flow: UpstreamFlow, redirect_uri: str, now: int) -> UpstreamIdentity:
        """Redeem ``code`` and return whom the IdP vouches for (``now``: epoch seconds).

        Raises:
            OAuthClientError: the code was refused or the IdP was unreachable
                (:mod:`oauth.client.errors`).
            UpstreamIdpError: the ID token failed validation, or the IdP vouched for no usable
                identity (:mod:`.errors`).
        """
        ...
