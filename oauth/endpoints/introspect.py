"""``POST /introspect``: token introspection (RFC 7662 §2) for the client a token was issued to."""

from __future__ import annotations

from authlib.oauth2.rfc6749 import OAuth2Error
from fastapi import APIRouter, Request
from fastapi.responses import Response

from oauth.client_metadata_documents import metadata_documents, resolve_documents
from oauth.endpoints._deps import RuntimeDep
from oauth.server.authlib_server import call_server, form_request, oauth_error_response

router = APIRouter()


@router.post("/introspect")
async def introspect(request: Request, runtime: RuntimeDep) -> Response:
    try:
        oauth_request = await form_request(runtime, request)
    except OAuth2Error as error:
        return oauth_error_response(error)
    documents = await resolve_documents(metadata_documents(request), [oauth_request.payload.client_id])
    response: Response = await call_server(
        runtime, lambda server: server.create_endpoint_response("introspection", oauth_request), documents
    )
    return response
