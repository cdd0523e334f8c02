"""The upstream authorization server's endpoints: configured, else from its metadata.

With ``issuer`` set, Portico reads the RFC 8414 metadata (``/.well-known/oauth-authorization-server``
inserted before the issuer's path, §3.1), falling back to OpenID Connect Discovery 1.0
(``<issuer>/.well-known/openid-configuration``, §4). The document's ``issuer`` must equal the
configured one exactly (RFC 8414 §3.3). A configured endpoint always wins over a discovered one;
when both required endpoints are configured nothing is fetched. Results are kept per server for
the life of the process (a failed lookup is not kept). The rules are the OAuth client's
(:mod:`oauth.client.discovery`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.config.schema import OAuthCredentialsConfig
from oauth.client.discovery import (
    AUTHORIZATION_SERVER_METADATA,
    endpoint,
    fetch_metadata,
    metadata_urls,
    optional_endpoint,
)


@dataclass(frozen=True)
class AuthorizationServerEndpoints:
    authorization_endpoint: str
    token_endpoint: str
    revocation_endpoint: str | None


class EndpointResolver:
    """Resolves (and remembers) each ``oauth`` server's endpoints."""

    def __init__(self) -> None:
        self._known: dict[str, AuthorizationServerEndpoints] = {}

    async def resolve(self, server: str, config: OAuthCredentialsConfig) -> AuthorizationServerEndpoints:
        """The endpoints of ``server``'s authorization server.

        Raises:
            AuthorizationServerUnavailableError: no metadata document could be fetched, it names
                another issuer, or an endpoint is missing or not https (http only on loopback).
        """
        known = self._known.get(server)
        if known is not None:
            return known
        document: dict[str, Any] = {}
        if config.authorization_endpoint is None or config.token_endpoint is None:
            issuer = config.issuer or ""
            document = await fetch_metadata(metadata_urls(issuer), issuer=issuer, what=AUTHORIZATION_SERVER_METADATA)
        resolved = AuthorizationServerEndpoints(
            authorization_endpoint=endpoint(
                config.authorization_endpoint, document, "authorization_endpoint", AUTHORIZATION_SERVER_METADATA
            ),
            token_endpoint=endpoint(config.token_endpoint, document, "token_endpoint", AUTHORIZATION_SERVER_METADATA),
            revocation_endpoint=optional_endpoint(
                config.revocation_endpoint, document, "revocation_endpoint", AUTHORIZATION_SERVER_METADATA
            ),
        )
        self._known[server] = resolved
        return resolved
