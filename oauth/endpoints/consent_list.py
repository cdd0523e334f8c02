"""``GET /consent`` (the applications a user allowed) and ``POST /consent/revoke`` (forget one).

Revoking forgets the consent for that client (every server) and revokes the tokens the client
holds for the user; the next authorization shows the consent page again. CSRF-protected.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from app.db import run_db
from app.observe.auth_events import auth_event, publish
from app.web import error_page, render
from oauth.consent.remembered import list_consents, revoke_consent
from oauth.endpoints._deps import RuntimeDep, UserDep
from oauth.login import api as login_api
from oauth.store.clients import find_client
from oauth.tokens.context import TokenContext

router = APIRouter()
CSRF_PURPOSE = "consent-revoke"


@dataclass(frozen=True)
class ConsentView:
    client_id: str
    name: str
    resource: str
    granted_at: datetime


@router.get("/consent")
async def consents(request: Request, runtime: RuntimeDep, user: UserDep) -> Response:
    if user is None:
        return login_api.login_redirect(return_to="/consent")
    views = await run_db(runtime.db, lambda db: _views(db, user.subject))
    csrf = runtime.csrf.issue(binding=user.login_session_id, purpose=CSRF_PURPOSE, now=_now(runtime))
    response = render(request, "consents.html", {"consents": views, "csrf": csrf})
    response.headers["x-frame-options"] = "DENY"
    return response


@router.post("/consent/revoke")
async def revoke(request: Request, runtime: RuntimeDep, user: UserDep) -> Response:
    form = await request.form()
    csrf, client_id = str(form.get("csrf", "")), str(form.get("client_id", ""))
    if user is None:
        return error_page(request, "Signed out", "Sign in again to manage your applications.", 403)
    if not runtime.csrf.verify(csrf, binding=user.login_session_id, purpose=CSRF_PURPOSE, now=_now(runtime)):
        return error_page(request, "Request refused", "The form is invalid or too old. Reload the page.", 403)
    now = runtime.clock.now()
    await run_db(
        runtime.db,
        lambda db: revoke_consent(db, user.subject, client_id, now=now, revoked_tokens=runtime.revoked_tokens),
    )
    revoked = auth_event("consent_revoked", subject=user.subject, email=user.email, client_id=client_id[:2048])
    publish(runtime.events, [revoked], client_address=request.client.host if request.client is not None else None)
    return RedirectResponse("/consent", status_code=303)


def _views(db: Session, subject: str) -> list[ConsentView]:
    views = []
    for row in list_consents(db, subject):
        client = find_client(db, row.client_id)
        name = (client.client_name if client is not None else None) or row.client_id
        views.append(ConsentView(row.client_id, name, row.resource, row.granted_at))
    return views


def _now(runtime: TokenContext) -> float:
    return runtime.clock.now().timestamp()
