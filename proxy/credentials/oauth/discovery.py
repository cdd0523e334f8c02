"""An upstream MCP server with its own OAuth (``credentials: {type: oauth, discover: true}``).

For such a server Portico finds everything itself, once per process and server:

1. The protected resource metadata (RFC 9728): ``/.well-known/oauth-protected-resource`` with the
   server URL's path appended (§3.1); when that is not found, the ``resource_metadata`` URL of
   the ``WWW-Authenticate`` challenge an unauthenticated request gets (§5.1). Its ``resource``
   must be the server's URL (§3.3); it names the authorization server(s) and ``scopes_supported``.
2. The first authorization server's metadata (RFC 8414, :mod:`oauth.client.discovery`), whose
   ``issuer`` must match the one named.
3. Portico's client there (``registration``): with a Client ID Metadata Document (``cimd``, or
   ``auto`` when the server advertises ``client_id_metadata_document_supported`` and
   ``public_url`` is https), the ``client_id`` is the document's URL
   (:mod:`.client_metadata_document`) and nothing is stored. Otherwise (``dcr``): read from table
   ``upstream_oauth_clients`` for (issuer, this server's ``redirect_uri``), else registered by
   RFC 7591 at ``registration_endpoint`` and stored (the secret encrypted). Confidential
   (``client_secret_basic``) when the server supports it, else public (``none``; PKCE protects
   the code).

The authorization and refresh requests then carry ``resource`` (RFC 8707) = the server's URL.
The code, refresh and revocation requests go through the same guard (checked and pinned per call).

Every fetch goes through the SSRF policy of Client ID Metadata Document fetches
(:mod:`oauth.client.ssrf`): https only, and the host must resolve to public addresses only —
except hosts in ``discovery_allow_hosts`` (internal or test deployments), which may also use http.
The connection is made to an address that was checked (:mod:`oauth.client.guarded_http`: no DNS
rebinding).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import anyio
import httpx2
from sqlalchemy.orm import Session, sessionmaker

from app.clock import Clock
from app.config.schema import OAuthCredentialsConfig, PorticoConfig, StreamableHttpServerConfig
from app.crypto import Sealer
from app.crypto.sealing import DecryptionError
from app.db import run_db
from app.log import register_secret
from oauth.client.discovery import AUTHORIZATION_SERVER_METADATA, fetch_metadata, metadata_member, metadata_urls
from oauth.client.errors import AuthorizationServerUnavailableError
from oauth.client.guarded_http import SharedGuardedTransport, check_url, guarded_client, guarded_get_json
from oauth.client.http import MAX_DOCUMENT_BYTES
from proxy.credentials.oauth.client import ClientRegistration, UpstreamOAuthClient
from proxy.credentials.oauth.client_metadata_document import callback_url, document_url
from proxy.credentials.oauth.client_store import UpstreamOAuthClientRow, find_upstream_client, put_upstream_client
from proxy.credentials.oauth.endpoints import AuthorizationServerEndpoints

_RESOURCE_METADATA = re.compile(r'resource_metadata="([^"]+)"')


def protected_resource_metadata_url(resource: str) -> str:
    """RFC 9728 §3.1: the well-known path inserted between the host and the resource's path."""
    parts = urlsplit(resource)
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, "/.well-known/oauth-protected-resource" + path, "", ""))


class DiscoveredClients:
    """Discovers and registers Portico's client for each ``discover: true`` server (kept per process)."""

    def __init__(self, config: PorticoConfig, *, db: sessionmaker[Session], sealer: Sealer, clock: Clock) -> None:
        self._public_url = config.public_url
        self._urls = {
            name: server.url
            for name, server in config.servers.items()
            if isinstance(server, StreamableHttpServerConfig)
        }
        self._db, self._sealer, self._clock = db, sealer, clock
        self._known: dict[str, UpstreamOAuthClient] = {}
        self._lock = anyio.Lock()

    async def client(self, server: str, spec: OAuthCredentialsConfig) -> UpstreamOAuthClient:
        """The OAuth client for ``server``.

        Raises:
            AuthorizationServerUnavailableError: a document cannot be fetched or is unusable, an address is refused
                by the SSRF policy, or registration fails.
        """
        known = self._known.get(server)
        if known is not None:
            return known
        async with self._lock:
            known = self._known.get(server)
            if known is not None:
                return known
            client = await self._discover(server, spec)
            self._known[server] = client
            return client

    async def _discover(self, server: str, spec: OAuthCredentialsConfig) -> UpstreamOAuthClient:
        allow = frozenset(host.lower() for host in spec.discovery_allow_hosts)
        url = self._urls[server]
        resource_document = await _protected_resource_metadata(url, allow)
        resource = resource_document.get("resource")
        if not isinstance(resource, str) or resource.rstrip("/") != url.rstrip("/"):
            raise AuthorizationServerUnavailableError("the protected resource metadata is for another resource")
        servers = resource_document.get("authorization_servers")
        if not isinstance(servers, list) or not servers or not isinstance(servers[0], str):
            raise AuthorizationServerUnavailableError("the protected resource metadata names no authorization server")
        issuer = servers[0]
        metadata = await _authorization_server_metadata(issuer, allow)
        endpoints = AuthorizationServerEndpoints(
            authorization_endpoint=_url(metadata, "authorization_endpoint", allow),
            token_endpoint=_url(metadata, "token_endpoint", allow),
            revocation_endpoint=_url(metadata, "revocation_endpoint", allow)
            if metadata.get("revocation_endpoint")
            else None,
        )
        if uses_metadata_document(spec, metadata, self._public_url):
            registration = ClientRegistration(document_url(self._public_url), None, "none")
        else:
            redirect_uri = callback_url(self._public_url, server)
            registration = await self._registration(issuer, redirect_uri, metadata, allow)
        supported = resource_document.get("scopes_supported")
        scopes = spec.scopes or ([s for s in supported if isinstance(s, str)] if isinstance(supported, list) else [])
        guard = SharedGuardedTransport(allow)
        return UpstreamOAuthClient(
            server, spec, endpoints, registration, resource=resource, scopes=scopes, transport=guard
        )

    async def _registration(
        self, issuer: str, redirect_uri: str, metadata: dict[str, Any], allow: frozenset[str]
    ) -> ClientRegistration:
        row = await run_db(self._db, lambda db: find_upstream_client(db, issuer=issuer, redirect_uri=redirect_uri))
        if row is not None:
            stored = self._open(row)
            if stored is not None:
                return stored
        registration = await _register(metadata, redirect_uri, allow, client_name=f"Portico ({self._public_url})")
        ad = client_secret_aad(issuer, redirect_uri)
        ciphertext = (
            self._sealer.encrypt(registration.client_secret.encode(), associated_data=ad)
            if registration.client_secret
            else None
        )
        new_row = UpstreamOAuthClientRow(
            issuer=issuer,
            redirect_uri=redirect_uri,
            client_id=registration.client_id,
            token_endpoint_auth_method=registration.auth_method,
            secret_ciphertext=ciphertext,
            registered_at=self._clock.now(),
        )
        await run_db(self._db, lambda db: put_upstream_client(db, new_row))
        return registration

    def _open(self, row: UpstreamOAuthClientRow) -> ClientRegistration | None:
        secret = None
        if row.secret_ciphertext is not None:
            try:
                ad = client_secret_aad(row.issuer, row.redirect_uri)
                secret = self._sealer.decrypt(row.secret_ciphertext, associated_data=ad).decode()
            except DecryptionError:
                return None  # registered under a lost key: register again
            register_secret(secret)
        return ClientRegistration(row.client_id, secret, row.token_endpoint_auth_method)


def uses_metadata_document(spec: OAuthCredentialsConfig, metadata: dict[str, Any], public_url: str) -> bool:
    """Whether Portico identifies itself by its Client ID Metadata Document at this authorization server.

    Raises:
        AuthorizationServerUnavailableError: ``registration: cimd`` but the server does not advertise support.
    """
    supported = metadata.get("client_id_metadata_document_supported") is True
    if spec.registration == "cimd" and not supported:
        raise AuthorizationServerUnavailableError(
            "the authorization server does not accept Client ID Metadata Documents"
        )
    if spec.registration == "auto":
        return supported and public_url.startswith("https://")
    return spec.registration == "cimd"


def client_secret_aad(issuer: str, redirect_uri: str) -> str:
    """The associated data Portico's client secret at ``issuer`` is sealed to (table ``upstream_oauth_clients``)."""
    return f"upstream-client|{issuer}|{redirect_uri}"


async def _protected_resource_metadata(resource: str, allow: frozenset[str]) -> dict[str, Any]:
    try:
        return await guarded_get_json(protected_resource_metadata_url(resource), "protected resource metadata", allow)
    except AuthorizationServerUnavailableError:
        pass
    await check_url(resource, allow)
    try:
        async with guarded_client(allow) as http:
            response = await http.get(resource, headers={"accept": "application/json, text/event-stream"})
    except httpx2.HTTPError as error:
        raise AuthorizationServerUnavailableError(f"the server could not be reached ({type(error).__name__})") from None
    match = _RESOURCE_METADATA.search(response.headers.get("www-authenticate", ""))
    if response.status_code != 401 or match is None:
        raise AuthorizationServerUnavailableError("the server names no protected resource metadata (RFC 9728)")
    return await guarded_get_json(match.group(1), "protected resource metadata", allow)


async def _authorization_server_metadata(issuer: str, allow: frozenset[str]) -> dict[str, Any]:
    return await fetch_metadata(
        metadata_urls(issuer),
        issuer=issuer,
        what=AUTHORIZATION_SERVER_METADATA,
        fetch=lambda url, what: guarded_get_json(url, what, allow),
    )


async def _register(
    metadata: dict[str, Any], redirect_uri: str, allow: frozenset[str], *, client_name: str
) -> ClientRegistration:
    """RFC 7591 §3.1 registration; the response's ``client_id`` (and secret) per §3.2.1."""
    endpoint = _url(metadata, "registration_endpoint", allow)
    await check_url(endpoint, allow)
    supported = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    method = "client_secret_basic" if "client_secret_basic" in supported else "none"
    body = {
        "client_name": client_name,
        "redirect_uris": [redirect_uri],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": method,
    }
    try:
        async with guarded_client(allow) as http:
            response = await http.post(endpoint, json=body, headers={"accept": "application/json"})
    except httpx2.HTTPError as error:
        raise AuthorizationServerUnavailableError(
            f"the registration endpoint could not be used ({type(error).__name__})"
        ) from None
    try:
        answer = response.json() if len(response.content) <= MAX_DOCUMENT_BYTES else None
    except ValueError:
        answer = None
    if response.status_code not in (200, 201) or not isinstance(answer, dict):
        raise AuthorizationServerUnavailableError(f"the registration endpoint answered HTTP {response.status_code}")
    client_id, secret = answer.get("client_id"), answer.get("client_secret")
    if not isinstance(client_id, str) or not client_id:
        raise AuthorizationServerUnavailableError("the registration response has no client_id")
    granted = answer.get("token_endpoint_auth_method")
    auth_method = granted if isinstance(granted, str) else method
    if auth_method != "none" and not isinstance(secret, str):
        raise AuthorizationServerUnavailableError("the registration response has no client_secret")
    if isinstance(secret, str):
        register_secret(secret)
    return ClientRegistration(client_id, secret if isinstance(secret, str) else None, auth_method)


def _url(metadata: dict[str, Any], name: str, allow: frozenset[str]) -> str:
    value = metadata_member(metadata, name, AUTHORIZATION_SERVER_METADATA)
    parts = urlsplit(value)
    if parts.scheme != "https" and (parts.scheme != "http" or (parts.hostname or "").lower() not in allow):
        raise AuthorizationServerUnavailableError(f"the {name} is not https")
    return value
