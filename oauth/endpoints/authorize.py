"""``GET /authorize``: the authorization endpoint (RFC 6749 §3.1 and §4.1.1, OAuth 2.1 §4.1.1).

1. Validate client and redirect URI; failures are an error page, never a redirect.
2. Validate the rest (response type, PKCE S256, resource, scope); failures redirect with
   ``error``, ``state`` and ``iss``.
3. Not signed in: to the sign-in page, then back here.
4. Signed in but no longer allowed: ``access_denied``.
5. Consent remembered for (user, client, resource): issue a code; otherwise show the consent page.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from oauth.client_metadata_documents import metadata_documents, resolve_documents
from oauth.consent.page import render_consent
from oauth.consent.pending import new_pending_consent
from oauth.endpoints._authorization import issue_and_redirect
from oauth.endpoints._deps import RuntimeDep, UserDep
from oauth.login import api as login_api
from oauth.server.authlib_server import call_server, query_request
from oauth.server.authorization import AuthorizationFailure, validate_authorization
from oauth.server.authorization_responses import access_denied, failure_response

router = APIRouter()


@router.get("/authorize")
async def authorize(request: Request, runtime: RuntimeDep, user: UserDep) -> Response:
    issuer = runtime.config.public_url
    oauth_request = query_request(runtime, request)
    documents = await resolve_documents(metadata_documents(request), [oauth_request.payload.client_id])
    subject = user.subject if user is not None else None
    try:
        validated = await call_server(
            runtime, lambda server: validate_authorization(server, oauth_request, subject), documents
        )
    except AuthorizationFailure as failure:
        return failure_response(request, issuer, failure)
    if user is None:
        return login_api.login_redirect(return_to=_path_and_query(request))
    if not await login_api.user_may_continue(runtime, user.subject):
        denied = access_denied(validated.redirect_uri, validated.state, "this account may not use this gateway")
        return failure_response(request, issuer, denied)
    if validated.consented:
        return await issue_and_redirect(request, runtime, oauth_request, user, documents, remember_consent=False)
    pending = new_pending_consent(
        subject=user.subject,
        client_id=validated.client.client_id,
        redirect_uri=validated.redirect_uri,
        state=validated.state,
        resource=validated.resource.resource,
        params=oauth_request.params,
        now=runtime.clock.now(),
    )
    return render_consent(request, runtime, user, validated, pending)


def _path_and_query(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")
