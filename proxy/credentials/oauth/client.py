"""The OAuth client calls Portico makes as a user's client at an upstream authorization server.

Every call is the OAuth client's (:class:`~oauth.client.authlib_client.OAuthClient`: Authlib,
PKCE S256, over httpx2); this module adds what an upstream MCP server asks for: RFC 8707
``resource`` on the authorization, code and refresh requests, ``prompt=consent`` with
``offline_access``, and revocation only where the server has a revocation endpoint. Failures are
the OAuth client's exceptions: an OAuth error body is a
:class:`~oauth.client.errors.TokenRequestError` (``invalid_grant`` included); network errors,
5xx and non-JSON bodies are :class:`~oauth.client.errors.AuthorizationServerUnavailableError`.
No message carries a token, code or secret.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx2

from app.config.schema import OAuthCredentialsConfig
from oauth.client.authlib_client import ClientSettings, OAuthClient
from oauth.client.flow import UpstreamFlow
from proxy.credentials.oauth.endpoints import AuthorizationServerEndpoints


@dataclass(frozen=True)
class ClientRegistration:
    """Portico's client at an authorization server: configured, or registered by RFC 7591."""

    client_id: str
    client_secret: str | None
    auth_method: str

    @classmethod
    def configured(cls, config: OAuthCredentialsConfig) -> ClientRegistration:
        secret = config.client_secret.get_secret_value() if config.client_secret is not None else None
        return cls(config.client_id or "", secret, config.auth_method)


class UpstreamOAuthClient:
    """Portico's client registration at one server's authorization server.

    ``scopes`` and ``resource`` default to the configuration's (a discovered server passes the
    protected resource metadata's ``resource`` and ``scopes_supported``).
    """

    def __init__(
        self,
        server: str,
        config: OAuthCredentialsConfig,
        endpoints: AuthorizationServerEndpoints,
        registration: ClientRegistration,
        *,
        resource: str | None = None,
        scopes: list[str] | None = None,
        transport: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        self.server, self.config, self.endpoints, self.registration = server, config, endpoints, registration
        self.resource = resource or config.resource
        self.scopes = scopes if scopes is not None else config.scopes
        self._client = OAuthClient(
            ClientSettings(
                name=f"connection-{server}",
                client_id=registration.client_id,
                client_secret=registration.client_secret,
                scopes=self.scopes,
                authorization_endpoint=endpoints.authorization_endpoint,
                token_endpoint=endpoints.token_endpoint,
                auth_method=registration.auth_method,
                transport=transport,
            )
        )

    def _resource(self) -> dict[str, str]:
        return {"resource": self.resource} if self.resource else {}

    async def authorization_url(self, flow: UpstreamFlow, *, redirect_uri: str) -> str:
        """The authorization request (RFC 6749 §4.1.1 + RFC 7636 S256 + RFC 8707 ``resource``).

        With the ``offline_access`` scope it asks for ``prompt=consent``: OpenID Connect Core §11
        lets a provider ignore ``offline_access`` (issue no refresh token) otherwise.
        """
        extra = self._resource()
        if "offline_access" in self.scopes:
            extra["prompt"] = "consent"
        return await self._client.authorization_url(flow, redirect_uri=redirect_uri, nonce=False, extra=extra)

    async def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str) -> dict[str, Any]:
        """The token response for ``code`` (RFC 6749 §4.1.3, with RFC 8707 ``resource``). Raises as the module says."""
        return await self._client.exchange_code(
            code=code, redirect_uri=redirect_uri, code_verifier=code_verifier, extra=self._resource()
        )

    async def refresh(self, refresh_token: str) -> dict[str, Any]:
        """A new token response for ``refresh_token`` (RFC 6749 §6). Raises as the module says."""
        return await self._client.refresh(refresh_token, extra=self._resource())

    async def revoke(self, token: str, token_type_hint: str) -> None:
        """Revoke ``token`` at the revocation endpoint (RFC 7009 §2.1); a no-op without one.

        Raises:
            AuthorizationServerUnavailableError: network failure or a status other than 200 (RFC 7009 §2.2).
        """
        if self.endpoints.revocation_endpoint is None:
            return
        await self._client.revoke(self.endpoints.revocation_endpoint, token, token_type_hint)
