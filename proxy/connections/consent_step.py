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
token (bound to the login session); Skip is a plain link to the authorization endpoint, without
``prompt=consent`` (the consent was just given: :func:`oauth.server.prompt.after_consent`).
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse

from app.db import run_db
from app.middleware import HTML_CSP
from app.web import render
from oauth.consent.pending import PendingConsent
from oauth.login.api import SignedInUser
from oauth.server.prompt import after_consent
from oauth.store.consents import save_consent
from oauth.tokens.context import TokenContext
from proxy.connections import CSRF_PURPOSE
from proxy.connections.gateway_port import ConnectionsGateway


class ConnectStep:
    """The :class:`~oauth.consent.after_approval.AfterApproval` step of the data plane."""

    def __init__(self, runtime: TokenContext, gateway: ConnectionsGateway) -> None:
        self._runtime = runtime
        self._gateway = gateway

    async def page(self, request: Request, user: SignedInUser, pending: PendingConsent) -> HTMLResponse | None:
        """The connect page when the approved server needs a credential the user lacks, else None.

        Records the consent for (user, client, resource) before answering the page.
        """
        runtime = self._runtime
        resource = runtime.resources.find(pending.resource)
        server = runtime.config.servers.get(resource.server) if resource is not None else None
        if resource is None or server is None or server.per_user is None:
            return None
        if not await self._gateway.credential_missing(user.subject, resource.server):
            return None
        now = runtime.clock.now()
        await run_db(
            runtime.db,
            lambda db: save_consent(
                db, subject=user.subject, client_id=pending.client_id, resource=pending.resource, now=now
            ),
        )
        user_token = server.user_token
        context = {
            "server": resource.server,
            "server_title": server.title or resource.server,
            "oauth": server.oauth is not None,
            "user_token": user_token is not None,
            "help_text": user_token.help_text if user_token is not None else None,
            "help_url": user_token.help_url if user_token is not None else None,
            "continue_url": f"/authorize?{urlencode(after_consent(pending.params))}",
            "csrf": runtime.csrf.issue(binding=user.login_session_id, purpose=CSRF_PURPOSE, now=now.timestamp()),
            "user": user,
        }
        response = render(request, "consent_connect.html", context)
        response.headers["x-frame-options"] = "DENY"
        response.headers["content-security-policy"] = HTML_CSP
        return response
