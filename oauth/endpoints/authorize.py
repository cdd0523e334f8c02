"""``GET /authorize``: the authorization endpoint (RFC 6749 §3.1 and §4.1.1, OAuth 2.1 §4.1.1).

1. Validate client and redirect URI; failures are an error page, never a redirect.
2. Validate the rest (response type, PKCE S256, resource, scope); failures redirect with
   ``error``, ``state`` and ``iss``.
3. ``prompt`` / ``max_age`` (OIDC Core §3.1.2.1, :mod:`oauth.server.prompt`): malformed →
   ``invalid_request``.
4. Not signed in, or ``prompt=login`` / ``max_age`` asks for a new sign-in: to the sign-in page
   (``prompt`` passed on to the IdP), then back here — or ``login_required`` for ``prompt=none``.
5. Signed in but no longer allowed: ``access_denied``. The access policy does not allow the
   server for this user and client (docs/policy.md §Consent): a page saying so, with a link back
   carrying ``access_denied`` — or that redirect at once for ``prompt=none``; never a code. Either
   is audited (``consent_denied``, reason ``policy``).
6. Consent remembered for (user, client, resource) and no ``prompt=consent``: issue a code;
   otherwise show the consent page — or ``consent_required`` for ``prompt=none``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.clock import epoch_seconds
from app.observe.auth_events import publish
from oauth.client_metadata_documents import metadata_documents, resolve_documents
from oauth.consent.denied import consent_denied
from oauth.consent.page import render_consent, render_policy_denied
from oauth.consent.pending import new_pending_consent
from oauth.consent.policy import POLICY_DENIED_DESCRIPTION, consent_policy
from oauth.endpoints._authorization import issue_and_redirect
from oauth.endpoints._deps import RuntimeDep, UserDep
from oauth.login import api as login_api
from oauth.login.api import SignedInUser
from oauth.server.authlib_server import call_server, query_request
from oauth.server.authorization import AuthorizationFailure, ValidatedAuthorization, validate_authorization
from oauth.server.authorization_responses import access_denied, failure_response
from oauth.server.prompt import (
    REAUTHENTICATION_MARKER,
    InvalidPromptError,
    Prompt,
    must_sign_in_again,
    new_marker,
    parse_prompt,
)
from oauth.tokens.context import TokenContext

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
    try:
        prompt = parse_prompt(request.query_params.get("prompt"), request.query_params.get("max_age"))
    except InvalidPromptError as error:
        return _refuse(request, issuer, validated, "invalid_request", str(error))
    if user is None or _must_sign_in_again(request, runtime, prompt, user, validated):
        if prompt.none:
            return _refuse(request, issuer, validated, "login_required", "the user must sign in")
        return login_api.login_redirect(
            return_to=_return_to(request, runtime, prompt, validated), prompt=prompt.upstream_prompt
        )
    if not await login_api.user_may_continue(runtime, user.subject):
        denied = access_denied(validated.redirect_uri, validated.state, "this account may not use this gateway")
        return failure_response(request, issuer, denied)
    policy = await consent_policy(
        runtime,
        subject=user.subject,
        email=user.email,
        client_id=validated.client.client_id,
        server=validated.resource.server,
    )
    if not policy.usable:
        _publish_policy_denial(request, runtime, user, validated, client_rule=policy.client_rule)
        if prompt.none:
            return _refuse(request, issuer, validated, "access_denied", POLICY_DENIED_DESCRIPTION)
        return render_policy_denied(request, runtime, user, validated, client_rule=policy.client_rule)
    if validated.consented and not prompt.consent:
        return await issue_and_redirect(request, runtime, oauth_request, user, documents, remember_consent=False)
    if prompt.none:
        return _refuse(request, issuer, validated, "consent_required", "the user has not approved this client")
    pending = new_pending_consent(
        subject=user.subject,
        client_id=validated.client.client_id,
        redirect_uri=validated.redirect_uri,
        state=validated.state,
        resource=validated.resource.resource,
        params=oauth_request.params,
        now=runtime.clock.now(),
    )
    return render_consent(request, runtime, user, validated, pending, policy.restrictions)


def _publish_policy_denial(
    request: Request, runtime: TokenContext, user: SignedInUser, validated: ValidatedAuthorization, *, client_rule: bool
) -> None:
    denied = consent_denied(
        subject=user.subject,
        email=user.email,
        client_id=validated.client.client_id,
        resource=validated.resource.resource,
        server=validated.resource.server,
        reason="policy",
        step="authorize",
        client_rule=client_rule,
    )
    publish(runtime.events, [denied], client_address=request.client.host if request.client is not None else None)


def _refuse(request: Request, issuer: str, validated: ValidatedAuthorization, error: str, description: str) -> Response:
    """A redirect to the client with ``error``, ``state`` and ``iss`` (OIDC Core §3.1.2.6)."""
    failure = AuthorizationFailure(error, description, validated.redirect_uri, validated.state)
    return failure_response(request, issuer, failure)


def _must_sign_in_again(
    request: Request, runtime: TokenContext, prompt: Prompt, user: SignedInUser, validated: ValidatedAuthorization
) -> bool:
    return must_sign_in_again(
        prompt,
        signed_in_at=user.signed_in_at,
        now=epoch_seconds(runtime.clock.now()),
        marker=request.query_params.get(REAUTHENTICATION_MARKER),
        client_id=validated.client.client_id,
        csrf=runtime.csrf,
    )


def _return_to(request: Request, runtime: TokenContext, prompt: Prompt, validated: ValidatedAuthorization) -> str:
    """This request's path and query; with a fresh reauthentication marker when the sign-in time matters."""
    query = [(name, value) for name, value in request.query_params.multi_items() if name != REAUTHENTICATION_MARKER]
    if prompt.checks_sign_in_time:
        now = epoch_seconds(runtime.clock.now())
        query.append(
            (REAUTHENTICATION_MARKER, new_marker(client_id=validated.client.client_id, now=now, csrf=runtime.csrf))
        )
    return f"{request.url.path}?{urlencode(query)}" if query else request.url.path
