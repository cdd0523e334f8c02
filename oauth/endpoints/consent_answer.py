"""``POST /consent``: the user's answer on the consent page (Approve or Deny).

Refused with a page (no redirect, no code) unless all hold: a signed-in user; a CSRF token bound
to their login session; a signed, unexpired pending request issued to that user; the browser's
consent cookie naming that request; and the request not already answered (single use).
Deny → ``access_denied`` redirect; Approve → the access policy checked again (it may have changed
since the page was shown; not allowed → ``access_denied``), consent remembered, code issued, redirect — or, when
the step installed after approval (:mod:`oauth.consent.after_approval`) has a page to show,
that page first. A denial (the user's or the policy's) is audited as ``consent_denied``
(:mod:`oauth.consent.denied`).
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.db import run_db
from app.observe.auth_events import publish
from app.signed_cookies import delete_cookie, read_signed_cookie
from app.used_states import spend_state
from app.web import error_page
from oauth.client_metadata_documents import metadata_documents, resolve_documents
from oauth.consent.after_approval import AFTER_APPROVAL
from oauth.consent.denied import Refuser, consent_denied
from oauth.consent.page import CSRF_PURPOSE, consent_cookie
from oauth.consent.pending import PendingConsent, unseal
from oauth.consent.policy import POLICY_DENIED_DESCRIPTION, consent_policy
from oauth.endpoints._authorization import issue_and_redirect
from oauth.endpoints._deps import RuntimeDep, UserDep
from oauth.login import api as login_api
from oauth.login.api import SignedInUser
from oauth.server.authlib_server import PorticoRequest
from oauth.server.authorization_responses import access_denied, failure_response
from oauth.tokens.context import TokenContext

router = APIRouter()
DECISIONS = ("approve", "deny")


@router.post("/consent")
async def consent(request: Request, runtime: RuntimeDep, user: UserDep) -> Response:
    form = await request.form()
    csrf, state, decision = (str(form.get(name, "")) for name in ("csrf", "state", "decision"))
    if user is None:
        return error_page(request, "Signed out", "Your sign-in has ended. Start again from your application.", 403)
    if not runtime.csrf.verify(
        csrf, binding=user.login_session_id, purpose=CSRF_PURPOSE, now=runtime.clock.now().timestamp()
    ):
        return error_page(request, "Request refused", "The form is invalid or too old. Start again.", 403)
    pending = _pending(request, runtime, user, state)
    if pending is None or decision not in DECISIONS:
        return error_page(request, "Request refused", "This consent request is invalid or has expired.", 403)
    if not await run_db(runtime.db, lambda db: spend_state(db, pending.state_id, pending.expires_at)):
        return error_page(request, "Already answered", "This consent request was already answered.", 400)
    response = await _decide(request, runtime, user, pending, approve=decision == "approve")
    delete_cookie(response, runtime, consent_cookie(pending.state_id))
    return response


def _pending(request: Request, runtime: TokenContext, user: SignedInUser, state: str) -> PendingConsent | None:
    pending = unseal(runtime.keyring, state, runtime.clock.now())
    if pending is None or pending.subject != user.subject:
        return None
    if read_signed_cookie(request, runtime, consent_cookie(pending.state_id)) != pending.state_id:
        return None
    return pending


async def _decide(
    request: Request, runtime: TokenContext, user: SignedInUser, pending: PendingConsent, *, approve: bool
) -> Response:
    issuer = runtime.config.public_url
    if not approve:
        _publish_denial(request, runtime, user, pending, "user")
        denied = access_denied(pending.redirect_uri, pending.state, "the user denied the request")
        return failure_response(request, issuer, denied)
    if not await login_api.user_may_continue(runtime, user.subject):
        denied = access_denied(pending.redirect_uri, pending.state, "this account may not use this gateway")
        return failure_response(request, issuer, denied)
    refuser = await _policy_refuser(runtime, user, pending)
    if refuser is not None:
        _publish_denial(request, runtime, user, pending, refuser[0], client_rule=refuser[1])
        return failure_response(
            request, issuer, access_denied(pending.redirect_uri, pending.state, POLICY_DENIED_DESCRIPTION)
        )
    step = AFTER_APPROVAL.find(request)  # e.g. connect the upstream account the server needs
    page = await step.page(request, user, pending) if step is not None else None
    if page is not None:
        return page
    documents = await resolve_documents(metadata_documents(request), [pending.client_id])
    uri = f"{issuer}/authorize?{urlencode(pending.params)}"
    oauth_request = PorticoRequest("GET", uri, request.headers, pending.params)
    return await issue_and_redirect(request, runtime, oauth_request, user, documents, remember_consent=True)


async def _policy_refuser(
    runtime: TokenContext, user: SignedInUser, pending: PendingConsent
) -> tuple[Refuser, bool] | None:
    """None when the policy still allows the server; else who refuses and whether a client rule did."""
    resource = runtime.resources.find(pending.resource)
    if resource is None:  # the server left the configuration since the page was shown
        return "server_removed", False
    policy = await consent_policy(
        runtime, subject=user.subject, email=user.email, client_id=pending.client_id, server=resource.server
    )
    return None if policy.usable else ("policy", policy.client_rule)


def _publish_denial(
    request: Request,
    runtime: TokenContext,
    user: SignedInUser,
    pending: PendingConsent,
    reason: Refuser,
    *,
    client_rule: bool = False,
) -> None:
    resource = runtime.resources.find(pending.resource)
    denied = consent_denied(
        subject=user.subject,
        email=user.email,
        client_id=pending.client_id,
        resource=pending.resource,
        server=resource.server if resource is not None else None,
        reason=reason,
        step="consent",
        client_rule=client_rule,
    )
    publish(runtime.events, [denied], client_address=request.client.host if request.client is not None else None)
