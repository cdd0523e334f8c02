"""The consent page (MCP security best practices, "confused deputy"; MCP authorization §CIMD security).

It names the client (escaped), the domain that vouches for it (a metadata document's host, or
"not verified" for a dynamically registered client), the host the browser will be sent back to,
a warning when the client only has loopback redirect URIs, and the server requested. It carries
a CSRF token bound to the login session and the signed pending request, sets the browser-binding
cookie, and forbids framing.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse

from app.middleware import HTML_CSP
from app.signed_cookies import set_signed_cookie
from app.web import render
from oauth.consent.pending import STATE_LIFETIME, PendingConsent, seal
from oauth.login.api import SignedInUser
from oauth.scopes import scope_set
from oauth.server.authorization import ValidatedAuthorization
from oauth.tokens.context import TokenContext

CONSENT_COOKIE = "portico-consent"
CSRF_PURPOSE = "consent"


def consent_cookie(state_id: str) -> str:
    """One cookie per pending request, so consent pages open in two tabs do not disturb each other."""
    return f"{CONSENT_COOKIE}-{state_id}"


def render_consent(
    request: Request,
    runtime: TokenContext,
    user: SignedInUser,
    validated: ValidatedAuthorization,
    pending: PendingConsent,
) -> HTMLResponse:
    now = runtime.clock.now().timestamp()
    server = runtime.config.servers.get(validated.resource.server)
    context = {
        "client": validated.client,
        "redirect_uri": validated.redirect_uri,
        "redirect_host": urlsplit(validated.redirect_uri).hostname or validated.redirect_uri,
        "localhost_only": validated.client.localhost_only,
        "resource": validated.resource,
        "server_title": (server.title if server is not None else None) or validated.resource.server,
        "scopes": sorted(scope_set(validated.scope)),
        "user": user,
        "csrf": runtime.csrf.issue(binding=user.login_session_id, purpose=CSRF_PURPOSE, now=now),
        "state": seal(runtime.keyring, pending),
    }
    response = render(request, "consent.html", context)
    response.headers["x-frame-options"] = "DENY"
    response.headers["content-security-policy"] = HTML_CSP  # frame-ancestors 'none'; set here, not left to chance
    set_signed_cookie(response, runtime, consent_cookie(pending.state_id), pending.state_id, max_age=STATE_LIFETIME)
    return response
