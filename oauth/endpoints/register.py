"""``POST /register``: dynamic client registration (RFC 7591 §3), open, rate-limited per client address.

201 with the client information; 400 ``invalid_redirect_uri`` / ``invalid_client_metadata``;
429 ``too_many_requests`` past the ``/register`` rate limit (:mod:`app.limits.endpoints`, default
``oauth.registrations_per_minute`` per address; docs/limits.md). CORS-enabled.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from oauth.cors import add_preflight, allow_any_origin
from oauth.endpoints._deps import RuntimeDep
from oauth.server.authlib_server import call_server, json_request

router = APIRouter()


@router.post("/register", status_code=201)
async def register(request: Request, runtime: RuntimeDep) -> Response:
    registration = await json_request(runtime, request)
    response: Response = await call_server(
        runtime,
        lambda server: server.create_endpoint_response("client_registration", registration),
        client_address=request.client.host if request.client is not None else None,
    )
    return allow_any_origin(response)


add_preflight(router, "/register", ["POST"])
