"""Signing in through an upstream IdP: ``GET /login/<id>`` starts, ``GET /login/callback/<id>`` finishes.

Start: a new :class:`~.flow.UpstreamFlow` (``state``, PKCE verifier, ``nonce``), sealed into a
cookie bound to this browser for 10 minutes, and a 303 to the IdP's authorization endpoint.

Callback (the redirect URI registered at the IdP, ``<public_url>/login/callback/<id>``):

1. ``state`` must open this browser's flow cookie for this provider, unexpired (RFC 6749 §10.12);
   it is then spent in ``used_states``, so a replayed callback is refused. The cookie is cleared.
2. An ``iss`` parameter (RFC 9207), when sent, must be the provider's issuer.
3. An ``error`` (RFC 6749 §4.1.2.1) is shown with the IdP's error code, never swallowed.
4. The code is redeemed with the PKCE verifier; the ID token (OpenID providers) or the API
   (GitHub) gives the :class:`~oauth.login.session.identity.UpstreamIdentity`.
5. :func:`~oauth.login.session.sign_in.sign_in` applies the access rules: refused → 403 naming the rule,
   nothing stored; admitted → login session cookie and 303 to ``return_to``.

Every failure is an error page (:mod:`.pages`), never a 500: network failures included.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import QueryParams

from app.clock import epoch_seconds
from app.config import PorticoConfig
from app.context import APP_CONTEXT, AppContext
from app.cookies import clear_cookie, read_cookie, set_cookie
from app.observe.auth_events import auth_event, publish
from app.return_to import safe_return_to
from oauth.client.callback import authorization_code, claim_flow
from oauth.client.errors import AuthorizationServerUnavailableError
from oauth.client.flow import (
    FLOW_LIFETIME,
    MAX_FLOW_RETURN_TO,
    UpstreamFlow,
    flow_cookie_base,
    new_flow,
    open_flow,
    seal_flow,
)
from oauth.login.session.current import sealed_login_session
from oauth.login.session.pages import refused_page, signed_in_redirect
from oauth.login.session.sign_in import sign_in
from oauth.login.upstream_idp.base import UpstreamIdentityProvider
from oauth.login.upstream_idp.errors import SIGN_IN_ERRORS
from oauth.login.upstream_idp.pages import failure_page
from oauth.login.upstream_idp.prompt import upstream_prompt

log = logging.getLogger("portico.login")


def callback_url(config: PorticoConfig, provider_id: str) -> str:
    """The redirect URI to register at the IdP: ``<public_url>/login/callback/<provider id>``."""
    return f"{config.public_url}/login/callback/{quote(provider_id, safe='')}"


def upstream_idp_router(idp: UpstreamIdentityProvider) -> APIRouter:
    """The two routes of one provider."""
    router = APIRouter()
    quoted = quote(idp.provider_id, safe="")

    async def upstream_sign_in(request: Request, return_to: str = "/", prompt: str | None = None) -> Response:
        return await start_sign_in(request, idp, return_to, prompt=upstream_prompt(prompt))

    async def upstream_callback(request: Request) -> Response:
        return await finish_sign_in(request, idp)

    router.add_api_route(f"/login/{quoted}", upstream_sign_in, methods=["GET"], response_class=Response)
    router.add_api_route(f"/login/callback/{quoted}", upstream_callback, methods=["GET"], response_class=Response)
    return router


async def start_sign_in(
    request: Request, idp: UpstreamIdentityProvider, return_to: str, *, prompt: str | None = None
) -> Response:
    """303 to the IdP with a new flow cookie; an error page when the IdP cannot be reached.

    ``prompt`` (``login``, ``select_account`` or None) asks the IdP to sign the user in again.
    """
    runtime = APP_CONTEXT.of(request)
    target = safe_return_to(return_to)
    flow = new_flow(idp.provider_id, target, epoch_seconds(runtime.clock.now()))
    try:
        if len(target) > MAX_FLOW_RETURN_TO:
            raise AuthorizationServerUnavailableError("the page to return to has too long an address")
        url = await idp.authorization_url(
            flow, redirect_uri=callback_url(runtime.config, idp.provider_id), prompt=prompt
        )
    except SIGN_IN_ERRORS as error:
        log.warning("sign-in via %s could not start: %s", idp.provider_id, error)
        _publish_failure(runtime, idp.provider_id, error, request)
        return failure_page(request, runtime, error, display_name=idp.display_name, return_to=target)
    response = RedirectResponse(url, status_code=303, headers={"cache-control": "no-store"})
    value = seal_flow(runtime.sealer, flow)
    set_cookie(response, runtime.config, flow_cookie_base(flow.state), value, FLOW_LIFETIME)
    return response


async def finish_sign_in(request: Request, idp: UpstreamIdentityProvider) -> Response:
    """The redirect URI: check the flow, redeem the code, apply the rules; always clears the flow cookie."""
    runtime = APP_CONTEXT.of(request)
    params = request.query_params
    cookie_base = flow_cookie_base(params.get("state", ""))
    flow = open_flow(
        runtime.sealer,
        read_cookie(request, runtime.config, cookie_base),
        provider=idp.provider_id,
        state=params.get("state", ""),
        now=epoch_seconds(runtime.clock.now()),
    )
    try:
        claimed = await claim_flow(runtime.db, flow, what="sign-in")
        response = await _complete(request, runtime, idp, claimed, params)
    except SIGN_IN_ERRORS as error:
        log.info("sign-in via %s failed: %s: %s", idp.provider_id, type(error).__name__, error)
        _publish_failure(runtime, idp.provider_id, error, request)
        return_to = flow.return_to if flow is not None else "/"
        response = failure_page(request, runtime, error, display_name=idp.display_name, return_to=return_to)
    clear_cookie(response, runtime.config, cookie_base)
    return response


async def _complete(
    request: Request, runtime: AppContext, idp: UpstreamIdentityProvider, flow: UpstreamFlow, params: QueryParams
) -> Response:
    code = authorization_code(params, idp.accepts_issuer)
    now = epoch_seconds(runtime.clock.now())
    redirect_uri = callback_url(runtime.config, idp.provider_id)
    identity = await idp.identity(code=code, flow=flow, redirect_uri=redirect_uri, now=now)
    previous = sealed_login_session(request, runtime)
    outcome = await sign_in(runtime, identity, replacing=previous.login_session_id if previous else None)
    if outcome.login_session is None:
        reason = outcome.decision.reason
        return refused_page(request, runtime, title="Access denied", message=reason, return_to=flow.return_to)
    return signed_in_redirect(runtime, outcome.login_session, flow.return_to)


def _publish_failure(runtime: AppContext, provider: str, error: Exception, request: Request) -> None:
    """A ``sign_in_refused`` event for an IdP-side failure: ``reason`` the error's class (messages are page-safe)."""
    event = auth_event(
        "sign_in_refused", outcome="refused", reason=f"idp_error:{type(error).__name__}", provider=provider
    )
    publish(runtime.events, [event], client_address=request.client.host if request.client is not None else None)
