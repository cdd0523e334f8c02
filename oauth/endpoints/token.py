"""``POST /token``: the token endpoint (RFC 6749 §3.2, §4.1.3, §6; OAuth 2.1 §3.2).

Grants: ``authorization_code`` (PKCE S256) and ``refresh_token`` (rotating). Before a refresh
the user is re-checked (:func:`oauth.login.api.user_may_continue`); a user who may no longer
sign in gets ``invalid_grant``. Errors are RFC 6749 §5.2 bodies with ``Cache-Control: no-store``;
``invalid_client`` (e.g. a deleted registration) is 401, so clients register again. CORS-enabled.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidRequestError, OAuth2Error
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.db import run_db
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
    try:
        oauth_request = await form_request(runtime, request)
        if not oauth_request.payload.grant_type:
            raise InvalidRequestError("grant_type is required")
        if oauth_request.payload.grant_type == "refresh_token":
            await _check_user_may_refresh(runtime, oauth_request.form.get("refresh_token"))
    except OAuth2Error as error:
        return allow_any_origin(oauth_error_response(error))
    documents = await resolve_documents(metadata_documents(request), [oauth_request.payload.client_id])
    response: Response = await call_server(
        runtime, lambda server: server.create_token_response(oauth_request), documents
    )
    return allow_any_origin(response)


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
