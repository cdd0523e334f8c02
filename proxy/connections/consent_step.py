"""After consent: offer to connect the upstream account the requested server needs (our design).

When the user approves a client for a server that takes a per-user credential (``user_token`` or
``oauth``, docs/credentials.md) and this user has none, Portico records the consent and shows one
more page before the client gets its code: connect the account now (the paste form, or the OAuth
connect flow), or **Skip**. Either way the browser then goes to ``/authorize`` with the original
request's parameters: the consent is now remembered, so that request issues the code at once and
redirects to the client. The code is therefore issued only when the user continues (an
authorization code lives 60 s, shorter than a trip through an upstream's sign-in).

Only what is missing is offered; a server that needs nothing, or a user who is already
connected, goes straight to the client as before. The forms carry the connections page's CSRF
token (bound to the login session); Skip is a plain link to the authorization endpoint.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse

from app.db import run_db
from app.middleware import HTML_CSP
from app.runtime import Runtime
from app.web import render
from oauth.consent.pending import PendingConsent
from oauth.login.api import SignedInUser
from oauth.store.consents import save_consent

CONNECTIONS_CSRF_PURPOSE = "connections"


async def connect_step(
    request: Request, runtime: Runtime, user: SignedInUser, pending: PendingConsent
) -> HTMLResponse | None:
    """The connect page when the approved server needs a credential the user lacks, else None.

    Records the consent for (user, client, resource) before answering the page.
    """
    resource = runtime.resources.find(pending.resource)
    server = runtime.config.servers.get(resource.server) if resource is not None else None
    if resource is None or server is None or server.per_user is None:
        return None
    gateway: Any = getattr(request.app.state, "gateway", None)
    if gateway is None or not await gateway.credentials.missing(user.subject, resource.server):
        return None
    now = runtime.clock.now()
    await run_db(
        runtime.db,
        lambda db: save_consent(
            db, subject=user.subject, client_id=pending.client_id, resource=pending.resource, now=now
        ),
    )
    continue_url = f"/authorize?{urlencode(pending.params)}"
    user_token = server.user_token
    context = {
        "server": resource.server,
        "server_title": server.title or resource.server,
        "oauth": server.oauth is not None,
        "user_token": user_token is not None,
        "help_text": user_token.help_text if user_token is not None else None,
        "help_url": user_token.help_url if user_token is not None else None,
        "continue_url": continue_url,
        "csrf": runtime.csrf.issue(
            binding=user.login_session_id, purpose=CONNECTIONS_CSRF_PURPOSE, now=now.timestamp()
        ),
        "user": user,
    }
    response = render(request, "consent_connect.html", context)
    response.headers["x-frame-options"] = "DENY"
    response.headers["content-security-policy"] = HTML_CSP
    return response
