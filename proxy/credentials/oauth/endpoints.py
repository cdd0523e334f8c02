"""The upstream authorization server's endpoints: configured, else from its metadata.

With ``issuer`` set, Portico reads the RFC 8414 metadata (``/.well-known/oauth-authorization-server``
inserted before the issuer's path, §3.1), falling back to OpenID Connect Discovery 1.0
(``<issuer>/.well-known/openid-configuration``, §4). The document's ``issuer`` must equal the
configured one exactly (RFC 8414 §3.3). A configured endpoint always wins over a discovered one;
when both required endpoints are configured nothing is fetched. Results are kept per server for
the life of the process (a failed lookup is not kept).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from app.config.login_providers import endpoint_url
from app.config.schema import OAuthCredentialsConfig
from oauth.client.errors import AuthorizationServerUnavailableError
from oauth.client.http import get_json_object


@dataclass(frozen=True)
class AuthorizationServerEndpoints:
    authorization_endpoint: str
    token_endpoint: str
    revocation_endpoint: str | None


def metadata_urls(issuer: str) -> list[str]:
    """Where the issuer's metadata may be, in the order tried (RFC 8414 §3.1, then OIDC Discovery §4)."""
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")
    rfc8414 = urlunsplit((parts.scheme, parts.netloc, "/.well-known/oauth-authorization-server" + path, "", ""))
    return [rfc8414, issuer.rstrip("/") + "/.well-known/openid-configuration"]


class EndpointResolver:
    """Resolves (and remembers) each ``oauth`` server's endpoints."""

    def __init__(self) -> None:
        self._known: dict[str, AuthorizationServerEndpoints] = {}

    async def resolve(self, server: str, config: OAuthCredentialsConfig) -> AuthorizationServerEndpoints:
        """The endpoints of ``server``'s authorization server.

        Raises:
            AuthorizationServerUnavailableError: no metadata document could be fetched, it names another issuer,
                or an endpoint is missing or not https (http only on loopback).
        """
        known = self._known.get(server)
        if known is not None:
            return known
        document: dict[str, Any] = {}
        if config.authorization_endpoint is None or config.token_endpoint is None:
            document = await _metadata(config.issuer or "")
        resolved = AuthorizationServerEndpoints(
            authorization_endpoint=_endpoint(config.authorization_endpoint, document, "authorization_endpoint"),
            token_endpoint=_endpoint(config.token_endpoint, document, "token_endpoint"),
            revocation_endpoint=_optional(config.revocation_endpoint, document, "revocation_endpoint"),
        )
        self._known[server] = resolved
        return resolved


async def _metadata(issuer: str) -> dict[str, Any]:
    failure: AuthorizationServerUnavailableError | None = None
    for url in metadata_urls(issuer):
        try:
            document = await get_json_object(url, "authorization server metadata")
        except AuthorizationServerUnavailableError as error:
            failure = error
            continue
        if document.get("issuer") != issuer:
            raise AuthorizationServerUnavailableError("the authorization server metadata names another issuer")
        return document
    raise failure or AuthorizationServerUnavailableError("no authorization server metadata")


def _endpoint(configured: str | None, document: dict[str, Any], name: str) -> str:
    value = configured or document.get(name)
    if not isinstance(value, str) or not value:
        raise AuthorizationServerUnavailableError(f"the authorization server metadata has no {name}")
    try:
        return endpoint_url(value)
    except ValueError:
        raise AuthorizationServerUnavailableError(f"the {name} is not an https URL") from None


def _optional(configured: str | None, document: dict[str, Any], name: str) -> str | None:
    if configured is None and not document.get(name):
        return None
    return _endpoint(configured, document, name)
