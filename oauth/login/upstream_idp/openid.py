"""What Google and any OpenID provider share: discovery, the code flow with PKCE and nonce, and
ID-token validation against the provider's JWKS (OpenID Connect Core 1.0 §3.1).

Endpoints and the Authlib client are resolved on first use and kept; a failed discovery is retried
at the next sign-in, so Portico starts even while an IdP is down. Subclasses turn the verified
claims into an :class:`UpstreamIdentity`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.log import register_secret
from oauth.client.authlib_client import ClientSettings, OAuthClient
from oauth.client.flow import UpstreamFlow
from oauth.login.session.identity import UpstreamIdentity
from oauth.login.upstream_idp.discovery import OpenIdEndpoints, OpenIdProviderConfig, resolve_endpoints
from oauth.login.upstream_idp.errors import InvalidIdTokenError
from oauth.login.upstream_idp.id_token import IdTokenExpectations, UnknownSigningKeyError, verify_id_token
from oauth.login.upstream_idp.jwks import JwksCache
from oauth.login.upstream_idp.prompt import openid_prompt_params


@dataclass(frozen=True)
class ResolvedProvider:
    """A provider's endpoints, its Authlib client and its JWKS cache, once discovered."""

    endpoints: OpenIdEndpoints
    client: OAuthClient
    jwks: JwksCache


class OpenIdProvider:
    """An OpenID provider; subclasses implement :meth:`identity_from_claims`."""

    def __init__(self, config: OpenIdProviderConfig) -> None:
        self.config = config
        self.provider_id = config.id
        self.display_name = config.display_name
        self._resolved: ResolvedProvider | None = None
        if config.client_secret is not None:
            register_secret(config.client_secret.get_secret_value())

    @property
    def issuers(self) -> frozenset[str]:
        """The ``iss`` values accepted in ID tokens."""
        return frozenset({self.config.issuer})

    @property
    def auth_method(self) -> str:
        return "client_secret_basic"

    def accepts_issuer(self, iss: str) -> bool:
        return iss in self.issuers

    def authorization_params(self) -> dict[str, str]:
        """Extra authorization request parameters (e.g. Google's ``hd``)."""
        return {}

    def identity_from_claims(self, claims: Mapping[str, Any]) -> UpstreamIdentity:
        raise NotImplementedError

    async def authorization_url(self, flow: UpstreamFlow, *, redirect_uri: str, prompt: str | None = None) -> str:
        resolved = await self._resolve()
        extra = self.authorization_params() | openid_prompt_params(prompt)
        return await resolved.client.authorization_url(flow, redirect_uri=redirect_uri, nonce=True, extra=extra)

    async def identity(self, *, code: str, flow: UpstreamFlow, redirect_uri: str, now: int) -> UpstreamIdentity:
        resolved = await self._resolve()
        token = await resolved.client.exchange_code(
            code=code, redirect_uri=redirect_uri, code_verifier=flow.code_verifier
        )
        id_token = token.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise InvalidIdTokenError("the token response has no ID token (is the openid scope granted?)")
        expect = IdTokenExpectations(self.issuers, self.config.client_id, flow.nonce, now)
        claims = await self._verified(resolved.jwks, id_token, expect)
        claims = await self.with_userinfo(resolved, token, claims)
        return self.identity_from_claims(claims)

    async def with_userinfo(
        self, resolved: ResolvedProvider, token: Mapping[str, Any], claims: dict[str, Any]
    ) -> dict[str, Any]:
        """The claims to build the identity from; the ID token's, unless the provider asks for userinfo."""
        return claims

    async def _verified(self, jwks: JwksCache, id_token: str, expect: IdTokenExpectations) -> dict[str, Any]:
        try:
            return verify_id_token(id_token, await jwks.keys(), expect)
        except UnknownSigningKeyError:
            # The IdP may have rotated its keys since the JWKS was cached: refetch once.
            return verify_id_token(id_token, await jwks.keys(refresh=True), expect)

    async def _resolve(self) -> ResolvedProvider:
        if self._resolved is None:
            endpoints = await resolve_endpoints(self.config)
            secret = self.config.client_secret.get_secret_value() if self.config.client_secret else None
            settings = ClientSettings(
                name=self.provider_id,
                client_id=self.config.client_id,
                client_secret=secret,
                scopes=self.config.scopes,
                authorization_endpoint=endpoints.authorization_endpoint,
                token_endpoint=endpoints.token_endpoint,
                auth_method=self.auth_method,
            )
            self._resolved = ResolvedProvider(endpoints, OAuthClient(settings), JwksCache(endpoints.jwks_uri))
        return self._resolved
