"""``GET /.well-known/oauth-authorization-server`` (RFC 8414 §3) and ``/.well-known/openid-configuration``.

The same document at both: MCP clients since 2025-11-25 try either. Public, CORS-enabled.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from oauth.cors import add_preflight, allow_any_origin
from oauth.endpoints._deps import RuntimeDep
from oauth.metadata import authorization_server_metadata

router = APIRouter()
PATHS = ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration")


async def authorization_server_metadata_document(runtime: RuntimeDep) -> JSONResponse:
    """Authorization server metadata (RFC 8414 §2); ``issuer`` is ``public_url`` exactly."""
    response = JSONResponse(authorization_server_metadata(runtime.config.public_url))
    response.headers["cache-control"] = "public, max-age=300"
    return allow_any_origin(response)


for _path in PATHS:
    router.add_api_route(_path, authorization_server_metadata_document, methods=["GET"])
    add_preflight(router, _path, ["GET"])
