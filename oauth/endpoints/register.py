"""``POST /register``: dynamic client registration (RFC 7591 §3), open, rate-limited per client IP.

201 with the client information; 400 ``invalid_redirect_uri`` / ``invalid_client_metadata``;
429 ``too_many_requests`` past ``oauth.registrations_per_minute`` from one address. CORS-enabled.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.slots import Slot
from oauth.cors import add_preflight, allow_any_origin
from oauth.endpoints._deps import RuntimeDep
from oauth.errors import TooManyRequestsError
from oauth.rate_limit import WINDOW_SECONDS, SlidingWindowLimiter, client_key
from oauth.server.authlib_server import call_server, json_request, oauth_error_response
from oauth.tokens.context import TokenContext

router = APIRouter()


@router.post("/register", status_code=201)
async def register(request: Request, runtime: RuntimeDep) -> Response:
    # The real client behind trusted proxies (listen.trusted_proxies), else the socket peer.
    address = client_key(request.client.host if request.client is not None else None)
    if not _limiter(request, runtime).allow(address):
        refusal = oauth_error_response(TooManyRequestsError("too many registrations from this address"))
        refusal.headers["retry-after"] = str(int(WINDOW_SECONDS))
        return allow_any_origin(refusal)
    registration = await json_request(runtime, request)
    response: Response = await call_server(
        runtime,
        lambda server: server.create_endpoint_response("client_registration", registration),
        client_address=request.client.host if request.client is not None else None,
    )
    return allow_any_origin(response)


_LIMITER: Slot[SlidingWindowLimiter] = Slot("registration_limiter")


def _limiter(request: Request, runtime: TokenContext) -> SlidingWindowLimiter:
    """One limiter per application instance, made on the first registration."""
    limiter = _LIMITER.find(request)
    if limiter is None:
        limiter = SlidingWindowLimiter(runtime.config.oauth.registrations_per_minute, runtime.clock)
        _LIMITER.put(request.app, limiter)
    return limiter


add_preflight(router, "/register", ["POST"])
