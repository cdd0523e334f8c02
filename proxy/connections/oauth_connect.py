"""Connecting a user's account at an ``oauth`` server: the authorization-code grant with PKCE.

``POST /connections/oauth/start`` (login session + CSRF token of the connections page; fields
``server``, ``csrf``, optional ``return_to``, a local path): a new flow — random ``state``
(RFC 6749 §10.12), PKCE ``code_verifier`` (RFC 7636, S256) — sealed into a 10-minute cookie whose
associated data names the server *and the signed-in user*, then a 303 to the upstream's
authorization endpoint with ``redirect_uri = <public_url>/connections/<server>/callback``.

``GET /connections/<server>/callback``: the ``state`` must open this browser's flow cookie for
this server and this signed-in user, unexpired, and is then spent (``used_states``): a replayed or
forged callback is refused. An ``error`` from the authorization server (RFC 6749 §4.1.2.1), a
bad ``state``, an ``iss`` (RFC 9207) naming another issuer, or a refused or failed code
redemption ends on an error page, with nothing stored. Otherwise the grant (access token,
refresh token, expiry, scope) is stored encrypted in the vault (kind ``oauth``), the gateway
forgets the user's cached credential for the server, and the browser goes back to ``return_to``
(default ``/connections?server=<server>``). No token, code, verifier or secret is ever shown or logged.

``GET /connections/oauth-client.json``: Portico's Client ID Metadata Document
(:mod:`proxy.credentials.oauth.client_metadata_document`), public.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from app.clock import epoch_seconds
from app.context import APP_CONTEXT, AppContext
from app.cookies import clear_cookie, read_cookie, set_cookie
from app.observe.auth_events import auth_event, publish
from app.return_to import safe_return_to
from app.web import error_page
from oauth.client.callback import authorization_code, claim_flow
from oauth.client.errors import (
    AuthorizationResponseError,
    AuthorizationServerUnavailableError,
    FlowStateError,
    OAuthClientError,
    TokenRequestError,
)
from oauth.client.flow import (
    FLOW_LIFETIME,
    MAX_FLOW_RETURN_TO,
    UpstreamFlow,
    flow_cookie_base,
    new_flow,
    open_flow,
    seal_flow,
)
from oauth.login.api import SignedInUser, current_user, login_redirect
from proxy.connections import CSRF_PURPOSE
from proxy.connections.gateway_port import CONNECTIONS_GATEWAY
from proxy.credentials.oauth.client_metadata_document import DOCUMENT_PATH, callback_url, client_metadata_document
from proxy.credentials.oauth.grant import grant_from_token_response
from proxy.credentials.oauth.user_grants import OAuthGrants

log = logging.getLogger("portico.credentials")
router = APIRouter()


def flow_binding(server: str, subject: str) -> str:
    """What the flow cookie is sealed to: the server and the user who started the connection."""
    return f"connection|{server}|{subject}"


@router.get(DOCUMENT_PATH)
async def client_metadata_document_route(request: Request) -> Response:
    """Portico's Client ID Metadata Document (public, cacheable); 404 when no server may use it."""
    document = client_metadata_document(APP_CONTEXT.of(request).config)
    if document is None:
        return JSONResponse({"error": "not_found"}, status_code=404)
    return JSONResponse(document, headers={"cache-control": "public, max-age=300"})


@router.post("/connections/oauth/start")
async def start_connection(request: Request) -> Response:
    runtime = APP_CONTEXT.of(request)
    user = await current_user(request)
    form = await request.form()
    server = str(form.get("server", ""))
    return_to = safe_return_to(str(form.get("return_to", "")) or f"/connections?{urlencode({'server': server})}")
    if user is None:
        return error_page(request, "Signed out", "Sign in again to manage your connections.", 403)
    now = runtime.clock.now()
    if not runtime.csrf.verify(
        str(form.get("csrf", "")), binding=user.login_session_id, purpose=CSRF_PURPOSE, now=now.timestamp()
    ):
        return error_page(request, "Request refused", "The form is invalid or too old. Reload the page.", 403)
    grants = CONNECTIONS_GATEWAY.of(request).oauth_grants
    if server not in grants.specs:
        return error_page(request, "Unknown server", "That server does not connect by OAuth.", 400)
    if len(return_to) > MAX_FLOW_RETURN_TO:
        return_to = "/connections"
    flow = new_flow(flow_binding(server, user.subject), return_to, epoch_seconds(now))
    try:
        client = await grants.client(server)
        url = await client.authorization_url(flow, redirect_uri=callback_url(runtime.config.public_url, server))
    except OAuthClientError as error:
        log.warning("connecting server %s could not start: %s", server, error)
        return _failure(request, runtime, server, error)
    response = RedirectResponse(url, status_code=303, headers={"cache-control": "no-store"})
    set_cookie(response, runtime.config, flow_cookie_base(flow.state), seal_flow(runtime.sealer, flow), FLOW_LIFETIME)
    return response


@router.get("/connections/{server}/callback")
async def finish_connection(request: Request, server: str) -> Response:
    runtime = APP_CONTEXT.of(request)
    user = await current_user(request)
    grants = CONNECTIONS_GATEWAY.of(request).oauth_grants
    if server not in grants.specs:
        return error_page(request, "Unknown server", "That server does not connect by OAuth.", 404)
    if user is None:
        return login_redirect(return_to=f"/connections?{urlencode({'server': server})}")
    params = request.query_params
    cookie_base = flow_cookie_base(params.get("state", ""))
    opened = open_flow(
        runtime.sealer,
        read_cookie(request, runtime.config, cookie_base),
        provider=flow_binding(server, user.subject),
        state=params.get("state", ""),
        now=epoch_seconds(runtime.clock.now()),
    )
    try:
        flow = await claim_flow(runtime.db, opened, what="connection")
        await _complete(request, runtime, grants, server, user, flow)
        response: Response = RedirectResponse(flow.return_to, status_code=303, headers={"cache-control": "no-store"})
    except OAuthClientError as error:
        log.info("connecting server %s for user %s failed: %s: %s", server, user.subject, type(error).__name__, error)
        response = _failure(request, runtime, server, error)
    clear_cookie(response, runtime.config, cookie_base)
    return response


async def _complete(
    request: Request, runtime: AppContext, grants: OAuthGrants, server: str, user: SignedInUser, flow: UpstreamFlow
) -> None:
    expected = grants.specs[server].issuer
    code = authorization_code(request.query_params, lambda issuer: expected is None or issuer == expected)
    client = await grants.client(server)
    token = await client.exchange_code(
        code=code, redirect_uri=callback_url(runtime.config.public_url, server), code_verifier=flow.code_verifier
    )
    grant = grant_from_token_response(token, epoch_seconds(runtime.clock.now()))
    await grants.store(user.subject, server, grant)
    await CONNECTIONS_GATEWAY.of(request).credential_changed(user.subject, server)
    log.info("user %s connected server %s", user.subject, server)
    connected = auth_event(
        "credential_connected", subject=user.subject, email=user.email, server=server, method="oauth"
    )
    publish(runtime.events, [connected], client_address=request.client.host if request.client is not None else None)


def _failure(request: Request, runtime: AppContext, server: str, error: OAuthClientError) -> Response:
    title = runtime.config.servers[server].title or server
    match error:
        case AuthorizationResponseError():
            detail = f": {error.description}" if error.description else ""
            message = f"{title} returned the error {error.error}{detail}. Nothing was stored."
        case TokenRequestError():
            message = f"{title} refused to issue a token (error {error.error}). Nothing was stored; connect again."
        case AuthorizationServerUnavailableError():
            message = f"Could not complete the connection to {title}: {error}. Nothing was stored; try again later."
        case FlowStateError():
            message = (
                "This connection was not started in this browser by this account, took longer than 10 minutes, "
                "or was already completed. Nothing was stored; connect again from the connections page."
            )
        case _:
            message = f"Could not connect {title}. Nothing was stored."
    status = 400 if isinstance(error, AuthorizationResponseError | FlowStateError) else 502
    return error_page(request, f"Connecting {title} failed", message, status)
