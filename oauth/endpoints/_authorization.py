"""Steps shared by ``GET /authorize`` and ``POST /consent``: issue a code and redirect."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import Request
from fastapi.responses import Response

from oauth.client_metadata_documents import MetadataDocument
from oauth.login.api import SignedInUser
from oauth.server.authlib_server import PorticoRequest, call_server
from oauth.server.authorization import AuthorizationFailure, issue_code
from oauth.server.authorization_responses import client_redirect, failure_response
from oauth.server_context import GrantUser
from oauth.tokens.context import TokenContext


async def issue_and_redirect(
    request: Request,
    runtime: TokenContext,
    oauth_request: PorticoRequest,
    user: SignedInUser,
    documents: Mapping[str, MetadataDocument],
    *,
    remember_consent: bool,
) -> Response:
    """Issue a code for ``user`` (recording consent when asked) and send the browser to the client."""
    grant_user = GrantUser(subject=user.subject, email=user.email)
    issuer = runtime.config.public_url
    try:
        location = await call_server(
            runtime,
            lambda server: issue_code(server, oauth_request, grant_user, remember_consent=remember_consent),
            documents,
        )
    except AuthorizationFailure as failure:
        return failure_response(request, issuer, failure)
    return client_redirect(location, issuer)
