"""Signing in through upstream identity providers: Google, any OpenID provider, GitHub.

- :mod:`.routes`: ``GET /login/<id>`` (start) and ``GET /login/callback/<id>`` (finish).
- :mod:`.pages`: the error page a failed sign-in ends on; :mod:`.errors`: the sign-in-only failures.
- :mod:`.discovery`, :mod:`.jwks`, :mod:`.id_token`: OpenID Connect discovery, signing keys and
  ID-token validation (joserfc).
- :mod:`.openid`, :mod:`.oidc`, :mod:`.google`, :mod:`.github`: the provider adapters.

The OAuth client underneath (the ``state``/PKCE/``nonce`` flow cookie, Authlib over httpx2,
discovery, errors) is :mod:`oauth.client`, shared with upstream OAuth credentials.
"""

from __future__ import annotations

from app.config.login_providers import UpstreamProviderConfig
from oauth.login.upstream_idp.base import UpstreamIdentityProvider
from oauth.login.upstream_idp.github import GithubProvider
from oauth.login.upstream_idp.google import GoogleProvider
from oauth.login.upstream_idp.oidc import OidcProvider
from oauth.login.upstream_idp.routes import callback_url, upstream_idp_router

__all__ = ["UpstreamIdentityProvider", "build_upstream_idp", "callback_url", "upstream_idp_router"]


def build_upstream_idp(config: UpstreamProviderConfig) -> UpstreamIdentityProvider:
    """The adapter for one configured provider (nothing is fetched until the first sign-in)."""
    match config.type:
        case "google":
            return GoogleProvider(config)
        case "oidc":
            return OidcProvider(config)
        case "github":
            return GithubProvider(config)
