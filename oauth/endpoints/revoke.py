"""``POST /revoke``: token revocation (RFC 7009 §2). Always 200 for unknown tokens. CORS-enabled."""

from __future__ import annotations

from authlib.oauth2.rfc6749 import OAuth2Error
from fastapi import APIRouter, Request
from fastapi.responses import Response

from oauth.client_metadata_documents import metadata_documents, resolve_documents
from oauth.cors import add_preflight, allow_any_origin
from oauth.endpoints._deps import RuntimeDep
from oauth.server.authlib_server import call_server, form_request, oauth_error_response

router = APIRouter()


@router.post("/revoke")
async def revoke(request: Request, runtime: RuntimeDep) -> Response:
    try:
        oauth_request = await form_request(runtime, request)
    except OAuth2Error as error:
        return allow_any_origin(oauth_error_response(error))
    documents = await resolve_documents(metadata_documents(request), [oauth_request.payload.client_id])
    response: Response = await call_server(
        runtime,
        lambda server: server.create_endpoint_response("revocation", oauth_request),
        documents,
        client_address=request.client.host if request.client is not None else None,
    )
    return allow_any_origin(response)


add_preflight(router, "/revoke", ["POST"])
