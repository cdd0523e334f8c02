"""``POST /token``: the token endpoint (RFC 6749 §3.2, §4.1.3, §6; OAuth 2.1 §3.2).

Grants: ``authorization_code`` (PKCE S256) and ``refresh_token`` (rotating). Before a refresh
the user is re-checked (:func:`oauth.login.api.user_may_continue`); a user who may no longer
sign in gets ``invalid_grant``. Errors are RFC 6749 §5.2 bodies with ``Cache-Control: no-store``;
``invalid_client`` (e.g. a deleted registration) is 401, so clients register again. CORS-enabled.
"""

from __future__ import annotations

import json

from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidRequestError, OAuth2Error
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.db import run_db
from app.observe.auth_events import auth_event, publish
from oauth.client_metadata_documents import metadata_documents, resolve_documents
from oauth.cors import add_preflight, allow_any_origin
from oauth.endpoints._deps import RuntimeDep
from oauth.login import api as login_api
from oauth.server.authlib_server import call_server, form_request, oauth_error_response
from oauth.store.refresh_tokens import find_refresh_token
from oauth.token_hashing import token_hashes
from oauth.tokens.context import TokenContext

router = APIRouter()


@router.post("/token")
async def token(request: Request, runtime: RuntimeDep) -> Response:
    address = request.client.host if request.client is not None else None
    grant_type: str | None = None
    client_id: str | None = None
    try:
        oauth_request = await form_request(runtime, request)
        grant_type, client_id = oauth_request.payload.grant_type, oauth_request.payload.client_id
        if not grant_type:
            raise InvalidRequestError("grant_type is required")
        if grant_type == "refresh_token":
            await _check_user_may_refresh(runtime, oauth_request.form.get("refresh_token"))
    except OAuth2Error as error:
        response = oauth_error_response(error)
    else:
        documents = await resolve_documents(metadata_documents(request), [client_id])
        response = await call_server(
            runtime, lambda server: server.create_token_response(oauth_request), documents, client_address=address
        )
    if response.status_code >= 400:
        _publish_failure(runtime, response, grant_type, client_id, address)
    return allow_any_origin(response)


def _publish_failure(
    runtime: TokenContext, response: Response, grant_type: str | None, client_id: str | None, address: str | None
) -> None:
    """A ``token_request_failed`` event: the grant type and the RFC 6749 §5.2 error code as ``reason``."""
    try:
        error = json.loads(bytes(response.body)).get("error")
    except (ValueError, AttributeError):
        error = None
    failure = auth_event(
        "token_request_failed",
        outcome="refused",
        client_id=client_id,
        reason=error if isinstance(error, str) else f"http_{response.status_code}",
        grant_type=grant_type[:64] if grant_type else None,
    )
    publish(runtime.events, [failure], client_address=address)


async def _check_user_may_refresh(runtime: TokenContext, refresh_token: str | None) -> None:
    """Raises InvalidGrantError when the token's user may no longer sign in."""
    if not refresh_token:
        return
    hashes = token_hashes(runtime.keyring, refresh_token)

    def subject_of(db: Session) -> str | None:
        row = find_refresh_token(db, hashes)
        return row.subject if row is not None else None

    subject = await run_db(runtime.db, subject_of)
    if subject is not None and not await login_api.user_may_continue(runtime, subject):
        raise InvalidGrantError("the user may no longer use this gateway")


add_preflight(router, "/token", ["POST"])
