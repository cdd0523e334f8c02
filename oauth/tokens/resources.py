"""Protected resources: one per configured server route (RFC 8707 resource indicators, RFC 9728).

Every server ``name`` is reached at ``<public_url>/<name>/mcp`` (Streamable HTTP) and
``<public_url>/<name>/sse`` (legacy HTTP+SSE); each URL is its own resource, so a token's
``aud`` names exactly one route. Resource identifiers are compared in canonical form: scheme
and host lower-cased, default port dropped, no trailing slash (MCP authorization §Resource
Parameter Implementation; RFC 8707 §2).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from app.config import PorticoConfig

MCP_SCOPE = "mcp"
OFFLINE_ACCESS_SCOPE = "offline_access"
DEFAULT_SCOPES = (MCP_SCOPE,)
ROUTE_KINDS = ("mcp", "sse")


@dataclass(frozen=True)
class ProtectedResource:
    """One route of one server.

    ``resource`` is the exact URL clients call and the ``aud`` of tokens for it;
    ``metadata_url`` is its RFC 9728 document (``/.well-known/oauth-protected-resource<path>``).
    """

    server: str
    kind: str
    path: str
    resource: str
    metadata_url: str
    scopes: tuple[str, ...] = DEFAULT_SCOPES


def canonical_resource(value: str) -> str | None:
    """Canonical form of an absolute http(s) resource URI, or None when it is not one.

    Fragments are not allowed (RFC 8707 §2); a query is not used by Portico's resources, so a
    URI with one never matches.
    """
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname or parts.fragment or parts.username:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}[scheme]
    netloc = host if port in (None, default) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), parts.query, ""))


class ResourceRegistry:
    """Every protected resource of a configuration, looked up by canonical URL or route path."""

    def __init__(self, config: PorticoConfig) -> None:
        self.issuer = config.public_url
        self._by_resource: dict[str, ProtectedResource] = {}
        self._by_path: dict[str, ProtectedResource] = {}
        for name in config.servers:
            for kind in ROUTE_KINDS:
                path = f"/{name}/{kind}"
                entry = ProtectedResource(
                    server=name,
                    kind=kind,
                    path=path,
                    resource=f"{config.public_url}{path}",
                    metadata_url=f"{config.public_url}/.well-known/oauth-protected-resource{path}",
                )
                canonical = canonical_resource(entry.resource)
                assert canonical is not None
                self._by_resource[canonical] = entry
                self._by_path[path] = entry

    def find(self, resource: str) -> ProtectedResource | None:
        """The resource a client named (``resource`` parameter or ``aud``), or None."""
        canonical = canonical_resource(resource)
        return self._by_resource.get(canonical) if canonical else None

    def for_path(self, path: str) -> ProtectedResource | None:
        """The resource served at a route path such as ``/github/mcp``."""
        return self._by_path.get(path)

    def for_path_or_assumed(self, server: str, kind: str) -> tuple[ProtectedResource, bool]:
        """The resource at ``/<server>/<kind>`` and True, or the one a server of that name would have and False.

        Unauthenticated callers get the same challenge for unknown names as for known ones, so the
        route answers do not enumerate the configured servers (issue #15 finding 9).
        """
        path = f"/{server}/{kind}"
        known = self._by_path.get(path)
        if known is not None:
            return known, True
        metadata_url = f"{self.issuer}/.well-known/oauth-protected-resource{path}"
        return ProtectedResource(server, kind, path, f"{self.issuer}{path}", metadata_url), False

    def all(self) -> list[ProtectedResource]:
        return list(self._by_path.values())
