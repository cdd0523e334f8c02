"""Protected resource metadata (RFC 9728): one document per server route.

``GET /.well-known/oauth-protected-resource/<server>/<mcp|sse>`` answers, for the route
``<public_url>/<server>/<kind>`` (RFC 9728 §3.1 inserts the well-known segment between the host
and the route path)::

    {"resource": "<public_url>/<server>/<kind>",
     "authorization_servers": ["<public_url>"],
     "scopes_supported": ["mcp"],
     "bearer_methods_supported": ["header"],
     "resource_name": "<server title, or its name>"}

``resource`` is byte-identical to the URL clients call and to the ``resource_metadata`` challenge
that points here (RFC 9728 §3.3); ``authorization_servers`` holds the issuer exactly as configured
(``public_url``), the same string as the AS metadata ``issuer`` and the tokens' ``iss``.
Unknown servers and route kinds answer 404 with the JSON error body of ``app.errors``.

The document is public and fetched by browser-based clients, so it carries
``Access-Control-Allow-Origin: *`` and answers CORS preflights (``OPTIONS``); it is cacheable for
a few minutes.

No root document (``/.well-known/oauth-protected-resource``) is served, on purpose: every route
is its own resource and the origin itself accepts no token, so a root document could only name a
resource Portico does not protect. Every 401/403 from a route carries ``resource_metadata``
(RFC 9728 §5.1), which clients try before any well-known URL; the MCP authorization spec asks a
server for the header *or* a well-known document, not both (MCP 2025-11-25 §Protected Resource
Metadata Discovery Requirements). A client that ignores the header still finds the path-inserted
document above before it falls back to the root.
"""

from __future__ import annotations

from typing import TypedDict

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from oauth.tokens.context import TOKEN_CONTEXT
from oauth.tokens.resources import ProtectedResource

router = APIRouter()

PATH = "/.well-known/oauth-protected-resource/{server}/{kind}"
CACHE_CONTROL = "public, max-age=300"
_CORS_HEADERS = {"Access-Control-Allow-Origin": "*"}
_PREFLIGHT_HEADERS = {
    **_CORS_HEADERS,
    "Access-Control-Allow-Methods": "GET, OPTIONS",
    "Access-Control-Allow-Headers": "MCP-Protocol-Version",
    "Access-Control-Max-Age": "86400",
}


class ProtectedResourceMetadata(TypedDict):
    """The RFC 9728 §2 fields Portico publishes."""

    resource: str
    authorization_servers: list[str]
    scopes_supported: list[str]
    bearer_methods_supported: list[str]
    resource_name: str


def protected_resource_metadata(
    resource: ProtectedResource, *, issuer: str, resource_name: str
) -> ProtectedResourceMetadata:
    """The metadata document of one route (RFC 9728 §2). Only the ``header`` bearer method (RFC 6750 §2.1)."""
    return {
        "resource": resource.resource,
        "authorization_servers": [issuer],
        "scopes_supported": list(resource.scopes),
        "bearer_methods_supported": ["header"],
        "resource_name": resource_name,
    }


@router.get(PATH)
async def protected_resource_metadata_document(server: str, kind: str, request: Request) -> JSONResponse:
    """RFC 9728 §3: the metadata of ``/<server>/<kind>``. 404 (``not_found``) for an unknown route."""
    runtime = TOKEN_CONTEXT.of(request)
    resource = runtime.resources.for_path(f"/{server}/{kind}")
    if resource is None:
        raise HTTPException(status_code=404, detail="no such protected resource", headers=_CORS_HEADERS)
    title = runtime.config.servers[resource.server].title
    document = protected_resource_metadata(
        resource, issuer=runtime.config.public_url, resource_name=title or resource.server
    )
    return JSONResponse(dict(document), headers={**_CORS_HEADERS, "Cache-Control": CACHE_CONTROL})


@router.options(PATH)
async def protected_resource_metadata_preflight(server: str, kind: str) -> Response:
    """CORS preflight (Fetch standard §3.2.2): GET from any origin, with ``MCP-Protocol-Version``."""
    del server, kind
    return Response(status_code=204, headers=_PREFLIGHT_HEADERS)
