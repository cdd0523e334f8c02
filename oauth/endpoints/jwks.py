"""``GET /jwks``: the public keys that verify Portico's access tokens (RFC 7517 §5, RFC 8414 ``jwks_uri``)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from oauth.cors import add_preflight, allow_any_origin
from oauth.endpoints._deps import RuntimeDep

router = APIRouter()


@router.get("/jwks")
async def jwks(runtime: RuntimeDep) -> JSONResponse:
    response = JSONResponse(runtime.signing_keys.jwks(), media_type="application/jwk-set+json")
    response.headers["cache-control"] = "public, max-age=300"
    return allow_any_origin(response)


add_preflight(router, "/jwks", ["GET"])
