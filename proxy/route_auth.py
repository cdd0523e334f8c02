"""The one place an MCP route authenticates its caller (placeholder until ``proxy/resource_server.py`` lands).

Every request on ``/<name>/mcp`` — POST, GET, DELETE — passes through :func:`authenticate`
before anything else is read. The body below only verifies Portico's access token locally
(signature, ``iss``, ``aud`` = this route's resource, expiry, revocation; RFC 9068, RFC 8707)
and answers 401 with the RFC 9728 ``resource_metadata`` challenge. The resource-server work
replaces the body with the real dependency (scope checks, 403 ``insufficient_scope``); callers
rely only on the signature: claims back, or an ``HTTPException`` carrying the challenge.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request

from app.runtime import Runtime
from oauth.access_tokens import AccessTokenClaims, AccessTokenError, verify_access_token
from oauth.resources import ProtectedResource


async def authenticate(request: Request, resource: ProtectedResource) -> AccessTokenClaims:
    """The verified claims of the request's bearer token for ``resource``.

    Raises:
        HTTPException: 401 with ``WWW-Authenticate: Bearer resource_metadata="…"``.
    """
    runtime: Runtime = request.app.state.runtime
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    challenge = {"WWW-Authenticate": f'Bearer resource_metadata="{resource.metadata_url}"'}
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "missing bearer token", headers=challenge)
    try:
        return verify_access_token(
            token.strip(),
            verification_keys=runtime.signing_keys.verification_keys,
            issuer=runtime.config.public_url,
            audience=resource.resource,
            now=runtime.clock.now().timestamp(),
            revoked=runtime.revoked_tokens,
        )
    except AccessTokenError as error:
        raise HTTPException(401, error.reason, headers=challenge) from error
