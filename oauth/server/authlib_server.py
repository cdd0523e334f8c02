"""The one boundary between Portico and Authlib's synchronous authorization-server core.

Async endpoints build a :class:`PorticoRequest` (or :class:`PorticoJsonRequest`) from the
Starlette request on the event loop, then :func:`call_server` runs the Authlib call on a worker
thread inside one database transaction (:func:`app.db.run_db`) with a server bound to that
transaction. Authlib's ``(status, body, headers)`` results become Starlette responses in
:meth:`PorticoAuthorizationServer.handle_response`; OAuth errors raised on the async side go
through :func:`oauth_error_response`. Every OAuth JSON response carries ``Cache-Control:
no-store``; ``invalid_client`` is always 401 with a ``WWW-Authenticate`` challenge.

See docs/adr/0001-authlib-boundary.md.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    InvalidRequestError,
    JsonRequest,
    OAuth2Error,
    OAuth2Payload,
    OAuth2Request,
    UnsupportedResponseTypeError,
)
from fastapi import Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException

from app.db import run_db
from app.observe.auth_events import publish
from app.observe.records import AuthEvent
from oauth.client_metadata_documents import MetadataDocument
from oauth.clients import OAuthClient
from oauth.grants.authorization_code import AuthorizationCodeGrant
from oauth.grants.refresh_token import RefreshTokenGrant
from oauth.pkce import S256CodeChallenge
from oauth.server.introspection import IntrospectionEndpoint
from oauth.server.registration import RegistrationEndpoint
from oauth.server.revocation import RevocationEndpoint
from oauth.server_context import ServerContext
from oauth.tokens.context import TokenContext

T = TypeVar("T")
# Authlib logs issued tokens at DEBUG ("Issue token %r to %r"); keep its records out whatever our level.
logging.getLogger("authlib").setLevel(logging.INFO)
NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}


class _Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, params: Sequence[tuple[str, str]]) -> None:
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for name, value in params:
            self._datalist[name].append(value)
        self._data = {name: values[0] for name, values in self._datalist.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class PorticoRequest(OAuth2Request):  # type: ignore[misc]
    """An OAuth request detached from Starlette: method, public URL, headers and parameters."""

    def __init__(self, method: str, uri: str, headers: Mapping[str, str], params: Sequence[tuple[str, str]]) -> None:
        super().__init__(method, uri, headers=headers)
        self.payload = _Payload(params)
        self.params = tuple(params)
        self.resource: Any = None

    @property
    def args(self) -> dict[str, str]:
        return self.payload.data

    @property
    def form(self) -> dict[str, str]:
        return self.payload.data


class _JsonPayload:
    def __init__(self, body: object) -> None:
        self.data = body


class PorticoJsonRequest(JsonRequest):  # type: ignore[misc]
    def __init__(self, method: str, uri: str, headers: Mapping[str, str], body: object) -> None:
        super().__init__(method, uri, headers)
        self.payload = _JsonPayload(body)


class PorticoAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    """Authlib's server bound to one :class:`ServerContext` (one transaction, one request)."""

    def __init__(self, ctx: ServerContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.register_grant(AuthorizationCodeGrant, [S256CodeChallenge(required=True)])
        self.register_grant(RefreshTokenGrant)
        self.register_endpoint(RevocationEndpoint)
        self.register_endpoint(IntrospectionEndpoint)
        self.register_endpoint(RegistrationEndpoint)

    def query_client(self, client_id: str | None) -> OAuthClient | None:
        return self.ctx.client(client_id)

    def get_authorization_grant(self, request: PorticoRequest) -> Any:
        """Authlib's, but the error for another ``response_type`` does not echo it (Authlib refuses
        quotes and backslashes in descriptions and would fail with a ValueError)."""
        if request.payload.response_type == "code":
            return super().get_authorization_grant(request)
        redirect_uri = _checked_redirect_uri(self.query_client(request.payload.client_id), request.payload.redirect_uri)
        raise UnsupportedResponseTypeError(
            "other", description="only response_type=code is supported", redirect_uri=redirect_uri
        )

    def save_token(self, token: dict[str, object], request: Any) -> None:
        """Nothing to do: the grants store tokens as they issue them (:func:`oauth.grant_tokens.issue_tokens`)."""

    def validate_requested_scope(self, scope: str | None) -> None:
        """Never ``invalid_scope``: unknown scopes are dropped (:mod:`oauth.scopes`)."""

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Portico uses no signals."""

    def create_oauth2_request(self, request: Any) -> PorticoRequest:
        assert isinstance(request, PorticoRequest)
        return request

    def create_json_request(self, request: Any) -> PorticoJsonRequest:
        assert isinstance(request, PorticoJsonRequest)
        return request

    def handle_response(self, status: int, body: Any, headers: Sequence[tuple[str, str]]) -> Response:
        merged = {name.lower(): value for name, value in headers if name.lower() != "content-type"}
        if isinstance(body, dict):
            return JSONResponse(body, status_code=status, headers={**merged, **NO_STORE})
        return Response(body or b"", status_code=status, headers=merged)

    def handle_error_response(self, request: Any, error: OAuth2Error) -> Response:
        return oauth_error_response(error)


def _checked_redirect_uri(client: OAuthClient | None, requested: str | None) -> str | None:
    """Where an error may be redirected: a registered redirect URI, else nowhere (RFC 6749 §4.1.2.1)."""
    if client is None:
        return None
    if not requested:
        return client.get_default_redirect_uri()
    return requested if client.check_redirect_uri(requested) else None


def oauth_error_response(error: OAuth2Error) -> JSONResponse:
    """An RFC 6749 §5.2 error body; ``invalid_client`` is 401 with a Basic challenge (§5.2)."""
    body = {"error": error.error}
    if error.description:
        body["error_description"] = error.description
    headers = dict(NO_STORE)
    status = error.status_code
    if error.error == "invalid_client":
        status = 401
        headers["www-authenticate"] = 'Basic realm="portico", error="invalid_client"'
    return JSONResponse(body, status_code=status, headers=headers)


async def call_server(
    runtime: TokenContext,
    action: Callable[[PorticoAuthorizationServer], T],
    documents: Mapping[str, MetadataDocument] | None = None,
    *,
    client_address: str | None = None,
) -> T:
    """Run ``action`` on a worker thread with a server bound to a fresh transaction.

    The transaction commits when ``action`` returns (OAuth error responses included, so that a
    replay's revocation sticks) and rolls back when it raises. The authorization events the action
    noted (``ServerContext.events``) are published after the commit, with ``client_address``.
    """
    now = runtime.clock.now()
    events: list[AuthEvent] = []

    def work(db: Session) -> T:
        return action(PorticoAuthorizationServer(ServerContext(runtime, db, now, documents or {}, events)))

    result = await run_db(runtime.db, work)
    publish(runtime.events, events, client_address=client_address)
    return result


def endpoint_uri(runtime: TokenContext, request: Request) -> str:
    """The request's URL as the issuer publishes it (TLS may end at a proxy in front of Portico)."""
    query = request.url.query
    return f"{runtime.config.public_url}{request.url.path}" + (f"?{query}" if query else "")


def query_request(runtime: TokenContext, request: Request) -> PorticoRequest:
    """The authorization request of a ``GET /authorize``."""
    params = list(request.query_params.multi_items())
    return PorticoRequest(request.method, endpoint_uri(runtime, request), request.headers, params)


async def form_request(runtime: TokenContext, request: Request) -> PorticoRequest:
    """A form-encoded OAuth request (token, revocation, introspection).

    Raises:
        InvalidRequestError: the body is not a readable form.
    """
    try:
        form = await request.form()
    except HTTPException as error:
        raise InvalidRequestError("the body must be application/x-www-form-urlencoded") from error
    params = [(name, value) for name, value in form.multi_items() if isinstance(value, str)]
    return PorticoRequest(request.method, endpoint_uri(runtime, request), request.headers, params)


async def json_request(runtime: TokenContext, request: Request) -> PorticoJsonRequest:
    """A JSON request (client registration); an unreadable body becomes ``None``."""
    try:
        body: object = await request.json()
    except ValueError:
        body = None
    return PorticoJsonRequest(request.method, endpoint_uri(runtime, request), request.headers, body)
