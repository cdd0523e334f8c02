"""The ``resource`` parameter (RFC 8707) at /authorize and /token.

A request names exactly one configured server URL (compared canonically: scheme and host
case-insensitive, default port and trailing slash ignored); the access token's ``aud`` is that
URL. Anything else is ``invalid_target``.

When a client omits ``resource`` (some clients, Claude Code among them, have done so), Portico
binds the request to the Streamable HTTP route of the only configured server, if exactly one
server is configured, and shows it on the consent page; with several servers the request is
refused with ``invalid_target`` asking for ``resource``, because guessing could hand a client a
token for a server the user never saw. The choice is made at /authorize and fixed in the code:
/token may repeat the same resource or omit it, never name another one.
"""

from __future__ import annotations

from collections.abc import Sequence

from oauth.errors import InvalidTargetError
from oauth.tokens.resources import ProtectedResource, ResourceRegistry, canonical_resource


def resolve_resource(registry: ResourceRegistry, requested: Sequence[str]) -> ProtectedResource:
    """The protected resource an authorization request is for.

    Raises:
        InvalidTargetError: several or unknown resources, or none with no single server to default to.
    """
    if len(requested) > 1:
        raise InvalidTargetError("request one resource at a time")
    if requested:
        found = registry.find(requested[0])
        if found is None:
            raise InvalidTargetError("resource is not a server URL of this gateway")
        return found
    return _default_resource(registry)


def check_same_resource(bound: str, requested: Sequence[str]) -> None:
    """A token request may omit ``resource`` or repeat the one the grant is bound to.

    Raises:
        InvalidTargetError: another (or more than one) resource.
    """
    if not requested:
        return
    if len(requested) > 1 or canonical_resource(requested[0]) != canonical_resource(bound):
        raise InvalidTargetError("resource differs from the one this grant was issued for")


def _default_resource(registry: ResourceRegistry) -> ProtectedResource:
    servers = sorted({entry.server for entry in registry.all()})
    if len(servers) == 1:
        default = registry.for_path(f"/{servers[0]}/mcp")
        assert default is not None
        return default
    raise InvalidTargetError("resource is required: send the URL of the MCP server, e.g. " + _example(registry))


def _example(registry: ResourceRegistry) -> str:
    entries = [entry for entry in registry.all() if entry.kind == "mcp"]
    return entries[0].resource if entries else f"{registry.issuer}/<server>/mcp"
