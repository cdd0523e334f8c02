"""``type: google``: Sign in with Google (OpenID Connect; https://accounts.google.com by discovery).

The ID token is verified with google-auth against Google's certificates (``certs_url``, cached for
their max-age; :mod:`oauth.login.upstream_idp.google_id_token`), then like any OpenID provider's:
``iss`` (Google issues both ``https://accounts.google.com`` and ``accounts.google.com``), ``aud``,
``azp``, ``exp``, ``iat``, ``nonce`` (ADR 0008). The domain matched by ``allowed_domains`` is the ``hd``
claim, which Google sets only for Google Workspace (and Cloud Identity) accounts: never the
email's text, since a consumer Google account can carry any verified address. ``hosted_domain``
sends ``hd=`` as a hint to Google's account chooser and is then enforced on the token's ``hd``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import anyio.to_thread

from app.config.login_providers import GoogleProviderConfig
from oauth.login.session.identity import UpstreamIdentity
from oauth.login.upstream_idp.claims import claim_name, claim_text, claim_true, plausible_email
from oauth.login.upstream_idp.errors import AccountRefusedError, UnusableIdentityError
from oauth.login.upstream_idp.google_id_token import verify_google_id_token
from oauth.login.upstream_idp.google_transport import CachingRequest
from oauth.login.upstream_idp.id_token import IdTokenExpectations
from oauth.login.upstream_idp.jwks import JwksCache
from oauth.login.upstream_idp.openid import OpenIdProvider

GOOGLE_ISSUER = "https://accounts.google.com"
GOOGLE_ISSUER_WITHOUT_SCHEME = "accounts.google.com"


class GoogleProvider(OpenIdProvider):
    """Google sign-in."""

    config: GoogleProviderConfig

    def __init__(self, config: GoogleProviderConfig) -> None:
        super().__init__(config)
        self._certificates = CachingRequest()

    async def _verified(self, jwks: JwksCache, id_token: str, expect: IdTokenExpectations) -> dict[str, Any]:
        """google-auth, not the JWKS: ``jwks`` is unused (Google's certificates are at ``certs_url``)."""
        certs_url = str(self.config.certs_url)
        return await anyio.to_thread.run_sync(
            lambda: verify_google_id_token(id_token, self._certificates, expect, certs_url=certs_url)
        )

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
