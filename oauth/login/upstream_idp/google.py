"""``type: google``: Sign in with Google (OpenID Connect; https://accounts.google.com by discovery).

The ID token is verified like any OpenID provider's (joserfc against Google's JWKS): signature,
``iss`` (Google issues both ``https://accounts.google.com`` and ``accounts.google.com``), ``aud``,
``azp``, ``exp``, ``iat``, ``nonce``. The domain matched by ``allowed_domains`` is the ``hd``
claim, which Google sets only for Google Workspace (and Cloud Identity) accounts: never the
email's text, since a consumer Google account can carry any verified address. ``hosted_domain``
sends ``hd=`` as a hint to Google's account chooser and is then enforced on the token's ``hd``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.config.login_providers import GoogleProviderConfig
from oauth.login.session.identity import UpstreamIdentity
from oauth.login.upstream_idp.claims import claim_name, claim_text, claim_true, plausible_email
from oauth.login.upstream_idp.errors import AccountRefusedError, UnusableIdentityError
from oauth.login.upstream_idp.openid import OpenIdProvider

GOOGLE_ISSUER = "https://accounts.google.com"
GOOGLE_ISSUER_WITHOUT_SCHEME = "accounts.google.com"


class GoogleProvider(OpenIdProvider):
    """Google sign-in."""

    config: GoogleProviderConfig

    def __init__(self, config: GoogleProviderConfig) -> None:
        super().__init__(config)

    @property
    def issuers(self) -> frozenset[str]:
        if self.config.issuer == GOOGLE_ISSUER:
            return frozenset({GOOGLE_ISSUER, GOOGLE_ISSUER_WITHOUT_SCHEME})
        return frozenset({self.config.issuer})

    def authorization_params(self) -> dict[str, str]:
        return {"hd": self.config.hosted_domain} if self.config.hosted_domain else {}

    def identity_from_claims(self, claims: Mapping[str, Any]) -> UpstreamIdentity:
        email = plausible_email(claim_text(claims, "email"))
        if email is None:
            raise UnusableIdentityError("Google sent no email address (is the email scope requested?)")
        hosted_domain = (claim_text(claims, "hd") or "").lower()
        wanted = self.config.hosted_domain
        if wanted is not None and hosted_domain != wanted:
            raise AccountRefusedError(
                f"{email}: this Google account is not in the Workspace domain {wanted} "
                f"(login.providers {self.provider_id}: hosted_domain)"
            )
        return UpstreamIdentity(
            provider=self.provider_id,
            provider_subject=str(claims["sub"]),
            email=email,
            email_verified=claim_true(claims, "email_verified"),
            name=claim_name(claims, "name"),
            domain=hosted_domain,
        )
