"""``GET /connections``: the servers a user may use and whether their own credential is connected.

``POST /connections/connect`` stores a pasted ``user_token`` (validated against the server's
``pattern``) in the encrypted vault; ``credentials: oauth`` servers connect through the
authorization-code flow of :mod:`proxy.connections.oauth_connect` (mounted here).
``POST /connections/disconnect`` deletes the credential — for an OAuth grant after revoking its
tokens at the upstream's revocation endpoint when one is known (RFC 7009). Both require the
login session and a CSRF token bound to it (purpose :data:`proxy.connections.CSRF_PURPOSE`), and
both tell the gateway (:class:`~proxy.connections.gateway_port.ConnectionsGateway`) so the user's
cached credential is dropped and their stdio process for that server restarts. No stored value
is ever shown, logged or put in an error message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from app.config.schema import StdioServerConfig
from app.context import APP_CONTEXT, AppContext
from app.db import run_db
from app.observe.auth_events import auth_event, publish
from app.return_to import safe_return_to
from app.web import error_page, render
from oauth.login.api import SignedInUser, current_user, login_redirect
from proxy.connections import CSRF_PURPOSE
from proxy.connections.gateway_port import CONNECTIONS_GATEWAY
from proxy.connections.oauth_connect import router as oauth_router
from proxy.credentials.decision import Decision, Unused
from proxy.credentials.deliverable import delivery_problem
from proxy.credentials.oauth.revoke import revoke_grant
from proxy.credentials.reading import read_all
from proxy.credentials.resolver import resolve
from proxy.credentials.vault import USER_TOKEN, forget_secret, store_secret

router = APIRouter()
router.include_router(oauth_router)
MAX_TOKEN_LENGTH: Final = 8192
RuntimeDep = Annotated[AppContext, Depends(APP_CONTEXT.of)]
UserDep = Annotated[SignedInUser | None, Depends(current_user)]
_STATUS_LABELS: Final = {
    "connected": "Connected",
    "missing": "Not connected",
    "expired": "Expired: connect again",
    "provided": "Provided for you (a shared token; you may connect your own)",
    "not_needed": "No account needed",
    "unusable": "Unusable: the stored token cannot be sent; connect again",
}


_NOT_CHOSEN_STATUS: Final = {Unused.GRANT_EXPIRED: "expired", Unused.UNDELIVERABLE: "unusable"}


@dataclass(frozen=True)
class ServerView:
    name: str
    title: str
    status: str
    user_token: bool
    oauth: bool
    help_text: str | None
    help_url: str | None

    @property
    def status_label(self) -> str:
        return _STATUS_LABELS[self.status]


@router.get("/connections")
async def connections(request: Request, runtime: RuntimeDep, user: UserDep) -> Response:
    if user is None:
        server = request.query_params.get("server")
        return_to = f"/connections?{urlencode({'server': server})}" if server else "/connections"
        return login_redirect(return_to=return_to)
    return await _page(request, runtime, user)


@router.post("/connections/connect")
async def connect(request: Request, runtime: RuntimeDep, user: UserDep) -> Response:
    form = await request.form()
    server, token = str(form.get("server", "")), str(form.get("token", "")).strip()
    refusal = _refusal(request, runtime, user, str(form.get("csrf", "")))
    if refusal is not None or user is None:
        return refusal or error_page(request, "Signed out", "Sign in again to manage your connections.", 403)
    spec = runtime.config.servers[server].user_token if server in runtime.config.servers else None
    if spec is None:
        return await _page(request, runtime, user, error="That server does not take a personal token.", status=400)
    if not token or len(token) > MAX_TOKEN_LENGTH or any(c.isspace() for c in token):
        return await _page(
            request, runtime, user, error="The token is empty or malformed.", status=400, selected=server
        )
    undeliverable = delivery_problem(
        spec.render(token), header=not isinstance(runtime.config.servers[server], StdioServerConfig)
    )
    if undeliverable is not None:
        message = f"That token cannot be used: {undeliverable}. Paste it again without them."
        return await _page(request, runtime, user, error=message, status=400, selected=server)
    if spec.pattern is not None and re.fullmatch(spec.pattern, token) is None:
        message = f"That does not look like a token for {server}." + (f" {spec.help_text}" if spec.help_text else "")
        return await _page(request, runtime, user, error=message, status=400, selected=server)
    now = runtime.clock.now()
    await run_db(
        runtime.db,
        lambda db: store_secret(
            db, runtime.sealer, subject=user.subject, server=server, kind=USER_TOKEN, secret=token, now=now
        ),
    )
    await CONNECTIONS_GATEWAY.of(request).credential_changed(user.subject, server)
    _publish(request, runtime, "credential_connected", user, server, "user_token")
    return RedirectResponse(safe_return_to(str(form.get("return_to", "")) or "/connections"), status_code=303)


@router.post("/connections/disconnect")
async def disconnect(request: Request, runtime: RuntimeDep, user: UserDep) -> Response:
    form = await request.form()
    server = str(form.get("server", ""))
    refusal = _refusal(request, runtime, user, str(form.get("csrf", "")))
    if refusal is not None or user is None:
        return refusal or error_page(request, "Signed out", "Sign in again to manage your connections.", 403)
    if server in runtime.config.servers and runtime.config.servers[server].oauth is not None:
        await revoke_grant(CONNECTIONS_GATEWAY.of(request).oauth_grants, user.subject, server)
    await run_db(runtime.db, lambda db: forget_secret(db, subject=user.subject, server=server))
    await CONNECTIONS_GATEWAY.of(request).credential_changed(user.subject, server)
    _publish(request, runtime, "credential_disconnected", user, server, None)
    return RedirectResponse("/connections", status_code=303)


def _publish(
    request: Request, runtime: AppContext, kind: str, user: SignedInUser, server: str, method: str | None
) -> None:
    event = auth_event(kind, subject=user.subject, email=user.email, server=server[:63], method=method)
    publish(runtime.events, [event], client_address=request.client.host if request.client is not None else None)


def _refusal(request: Request, runtime: AppContext, user: SignedInUser | None, csrf: str) -> Response | None:
    if user is None:
        return error_page(request, "Signed out", "Sign in again to manage your connections.", 403)
    now = runtime.clock.now().timestamp()
    if not runtime.csrf.verify(csrf, binding=user.login_session_id, purpose=CSRF_PURPOSE, now=now):
        return error_page(request, "Request refused", "The form is invalid or too old. Reload the page.", 403)
    return None


async def _page(
    request: Request,
    runtime: AppContext,
    user: SignedInUser,
    *,
    error: str | None = None,
    status: int = 200,
    selected: str | None = None,
) -> Response:
    now = runtime.clock.now()
    servers = runtime.config.servers
    readings = await run_db(runtime.db, lambda db: read_all(db, runtime.sealer, servers, subject=user.subject, now=now))
    views = []
    for name, server in servers.items():
        spec = server.user_token
        status_name = connection_status(resolve(name, server, readings[name], now))
        help_text, help_url = (spec.help_text, spec.help_url) if spec is not None else (None, None)
        views.append(
            ServerView(
                name, server.title or name, status_name, spec is not None, server.oauth is not None, help_text, help_url
            )
        )
    csrf = runtime.csrf.issue(binding=user.login_session_id, purpose=CSRF_PURPOSE, now=now.timestamp())
    context = {
        "servers": views,
        "csrf": csrf,
        "user": user,
        "error": error,
        "selected": selected or request.query_params.get("server"),
    }
    response = render(request, "connections.html", context, status)
    response.headers["x-frame-options"] = "DENY"
    return response


def connection_status(decision: Decision) -> str:
    """The page's status of one server, from the resolver's decision (the gateway's and the guard's too).

    ``not_needed`` (no per-user credential), ``connected`` (the user's own token or grant is
    presented), ``provided`` (a group's token or the default), ``expired`` (an OAuth access token
    past its expiry with no refresh token), ``unusable`` (the stored value cannot be sent upstream,
    e.g. a token with control characters stored before they were refused) or ``missing``.
    """
    per_user = decision.per_user
    if per_user is None:
        return "not_needed"
    if per_user.chosen is None:
        return _NOT_CHOSEN_STATUS.get(per_user.unused, "missing") if per_user.unused is not None else "missing"
    return "connected" if per_user.chosen.source.per_user else "provided"
