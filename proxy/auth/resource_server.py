"""The resource-server side of every MCP route: a bearer token in, verified claims out.

Every ``/<server>/mcp`` and ``/<server>/sse`` request (and the legacy SSE message endpoint) is
checked by :meth:`BearerAuthenticator.authenticate` — the gateway's endpoints call it directly,
other routes through the :data:`McpAccessToken` / :data:`SseAccessToken` dependencies. It reads
the token from the ``Authorization`` header only (RFC 6750 §2.1; query and form tokens are never
read, as MCP authorization §Token Requirements forbids them), verifies it locally with
:func:`oauth.tokens.access_tokens.verify_access_token` (signature, ``iss``, ``aud`` = this route,
expiry, revocation: no database, no key work per request) and requires the route's scopes.
Verified tokens are remembered per app (:mod:`proxy.auth.verified_tokens`): a client's next call
with the same token skips the signature check but is still checked against the revocation list
and its expiry.

Rejections raise a :class:`ResourceServerError`, rendered in one place by
:func:`resource_server_error` (installed with :func:`install_resource_server_errors`):

=============================================  ======  ===========================================
case                                           status  ``WWW-Authenticate``
=============================================  ======  ===========================================
no ``Authorization``, or another scheme        401     ``Bearer resource_metadata, scope``
two headers, or two credentials in one         400     ``Bearer error="invalid_request", …``
malformed/invalid/expired/foreign/revoked      401     ``Bearer error="invalid_token", …``
valid token without the route's scope          403     ``Bearer error="insufficient_scope", …``
=============================================  ======  ===========================================

The body is ``{"error", "error_description"}`` (JSON), what the MCP SDK's own bearer middleware
answers (``mcp.server.auth.middleware.bearer_auth.RequireAuthMiddleware``); with no credentials the
body says ``invalid_token`` as the SDK's does, while the challenge carries no error (RFC 6750
§3.1). Responses carry ``Cache-Control: no-store`` and ``Access-Control-Expose-Headers:
WWW-Authenticate`` so browser clients can read the challenge. Tokens are never logged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Annotated, ClassVar

from fastapi import Depends, FastAPI, Request, Response
from starlette.exceptions import HTTPException

from app.observe import tracing
from app.slots import Slot
from oauth.tokens.access_tokens import AccessTokenClaims, AccessTokenError, verify_access_token
from oauth.tokens.context import TOKEN_CONTEXT, TokenContext
from oauth.tokens.resources import ROUTE_KINDS, ProtectedResource
from proxy.auth.challenge import INSUFFICIENT_SCOPE, INVALID_TOKEN, error_body, www_authenticate
from proxy.auth.verified_tokens import VerifiedTokens

log = logging.getLogger("portico.resource_server")

# RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


class ResourceServerError(Exception):
    """A request the resource server refuses. ``description`` is safe to show and never holds the token."""

    status_code: ClassVar[int]
    error: ClassVar[str | None]

    def __init__(self, resource: ProtectedResource, description: str) -> None:
        super().__init__(description)
        self.resource = resource
        self.description = description

    @property
    def www_authenticate(self) -> str:
        """The ``WWW-Authenticate`` value (RFC 6750 §3, RFC 9728 §5.1), cached per resource and reason."""
        return www_authenticate(self.resource, self.error, self.description if self.error else None)

    @property
    def body(self) -> bytes:
        return error_body(self.error or INVALID_TOKEN, self.description)


class AuthenticationRequiredError(ResourceServerError):
    """No bearer credentials at all (RFC 6750 §3.1: the challenge carries no error code)."""

    status_code = 401
    error = None


class InvalidRequestError(ResourceServerError):
    """``invalid_request`` (RFC 6750 §3.1): more than one credential was sent."""

    status_code = 400
    error = "invalid_request"


class InvalidTokenError(ResourceServerError):
    """``invalid_token`` (RFC 6750 §3.1): malformed, badly signed, expired, foreign, revoked, or for another route."""

    status_code = 401
    error = INVALID_TOKEN


class InsufficientScopeError(ResourceServerError):
    """``insufficient_scope`` (RFC 6750 §3.1; MCP authorization §Scope Challenge Handling)."""

    status_code = 403
    error = INSUFFICIENT_SCOPE


def bearer_token(authorization: list[str], resource: ProtectedResource) -> str:
    """The token of the one ``Authorization: Bearer <b64token>`` header (scheme case-insensitive, RFC 9110 §11.1).

    ``authorization`` is every ``Authorization`` header value of the request, in order.

    Raises:
        AuthenticationRequiredError: no header, or only another scheme such as ``Basic``.
        InvalidRequestError: several headers, or several comma-separated credentials with a ``Bearer`` one.
        InvalidTokenError: a ``Bearer`` credential that is not exactly one b64token (RFC 6750 §2.1).
    """
    if not authorization:
        raise AuthenticationRequiredError(resource, "authentication required")
    if len(authorization) > 1:
        raise InvalidRequestError(resource, "more than one Authorization header")
    credentials = [part.strip() for part in authorization[0].split(",")]
    schemes = [credential.split(" ", 1)[0].lower() for credential in credentials]
    if "bearer" not in schemes:
        raise AuthenticationRequiredError(resource, "authentication required")
    if len(credentials) > 1:
        raise InvalidRequestError(resource, "more than one credential in Authorization")
    token = credentials[0][len("bearer") :].lstrip(" ")
    if not _B64TOKEN.fullmatch(token):
        raise InvalidTokenError(resource, "malformed bearer credential")
    return token


class BearerAuthenticator:
    """The bearer check of one app's MCP routes: verifies tokens locally and remembers them.

    Holds the app's :class:`~proxy.auth.verified_tokens.VerifiedTokens`. Keys, issuer, clock and
    revocation list are read from ``tokens`` at every call, so a key rotation or a revocation
    takes effect at once.
    """

    def __init__(self, tokens: TokenContext) -> None:
        self._tokens = tokens
        self._verified = VerifiedTokens(tokens.signing_keys.verification_keys)

    def authenticate(self, authorization: list[str], resource: ProtectedResource) -> AccessTokenClaims:
        """Verify the request's bearer token for ``resource`` and require its scopes.

        ``authorization`` is every ``Authorization`` header value of the request, in order.
        No database, no key work for a token already verified (until its ``exp``).

        Raises:
            AuthenticationRequiredError, InvalidRequestError, InvalidTokenError: see :func:`bearer_token`;
                ``InvalidTokenError`` also for every :class:`~oauth.tokens.access_tokens.AccessTokenError`.
            InsufficientScopeError: the token lacks one of ``resource.scopes``.
        """
        if tracing.ON:
            with tracing.span("portico.token.verify", attributes={"portico.resource": resource.resource}):
                return self._authenticate(authorization, resource)
        return self._authenticate(authorization, resource)

    def _authenticate(self, authorization: list[str], resource: ProtectedResource) -> AccessTokenClaims:
        tokens, verified = self._tokens, self._verified
        token = bearer_token(authorization, resource)
        keys = tokens.signing_keys.verification_keys
        issuer = tokens.config.public_url
        now = tokens.clock.now().timestamp()
        claims = verified.get(token, keys=keys, issuer=issuer, audience=resource.resource, now=now)
        if claims is not None:
            if tokens.revoked_tokens.is_revoked(claims.jwt_id, now):
                verified.forget(token)
                raise InvalidTokenError(resource, "token was revoked")
        else:
            try:
                claims = verify_access_token(
                    token,
                    verification_keys=keys,
                    issuer=issuer,
                    audience=resource.resource,
                    revoked=tokens.revoked_tokens,
                    now=now,
                )
            except AccessTokenError as error:
                raise InvalidTokenError(resource, error.reason) from None  # the cause may quote the token
            verified.put(token, claims)
        missing = [scope for scope in resource.scopes if scope not in claims.scopes]
        if missing:
            raise InsufficientScopeError(resource, f"the token lacks the scope {' '.join(missing)}")
        return claims


BEARER_AUTHENTICATOR: Slot[BearerAuthenticator] = Slot("bearer_authenticator")
"""The app's authenticator, for routes outside the gateway's own endpoints (put by ``app.main``)."""


def access_token_for(kind: str) -> Callable[[Request], Awaitable[AccessTokenClaims]]:
    """A FastAPI dependency for routes with a ``{server}`` path parameter, protecting ``/<server>/<kind>``.

    An unknown ``server`` is authenticated against the resource it would be, so without a valid
    token it is answered exactly like a known one (the gateway's endpoints do the same).

    Raises:
        ResourceServerError: as :meth:`BearerAuthenticator.authenticate`.
        HTTPException: 404 when ``server`` is not configured, after authentication (rendered by ``app.errors``).
    """
    assert kind in ROUTE_KINDS, kind

    async def access_token(request: Request) -> AccessTokenClaims:
        server = str(request.path_params.get("server", ""))
        resource, known = TOKEN_CONTEXT.of(request).resources.for_path_or_assumed(server, kind)
        claims = BEARER_AUTHENTICATOR.of(request).authenticate(request.headers.getlist("authorization"), resource)
        if not known:
            raise HTTPException(status_code=404, detail="no such server")
        return claims

    return access_token


McpAccessToken = Annotated[AccessTokenClaims, Depends(access_token_for("mcp"))]
"""The verified claims of a ``/{server}/mcp`` (Streamable HTTP) request."""
SseAccessToken = Annotated[AccessTokenClaims, Depends(access_token_for("sse"))]
"""The verified claims of a ``/{server}/sse`` request or of its legacy message endpoint."""


async def resource_server_error(request: Request, exc: Exception) -> Response:
    """Render a :class:`ResourceServerError`: status, ``WWW-Authenticate``, JSON ``{"error", "error_description"}``."""
    assert isinstance(exc, ResourceServerError)
    log.info("%s %s refused: %s", request.method, exc.resource.path, exc.description)
    headers = {
        "WWW-Authenticate": exc.www_authenticate,
        "Access-Control-Expose-Headers": "WWW-Authenticate",
        "Cache-Control": "no-store",
    }
    return Response(exc.body, status_code=exc.status_code, media_type="application/json", headers=headers)


def install_resource_server_errors(app: FastAPI) -> None:
    """Register :func:`resource_server_error` for every :class:`ResourceServerError`."""
    app.add_exception_handler(ResourceServerError, resource_server_error)
