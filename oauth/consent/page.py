"""The consent page (MCP security best practices, "confused deputy"; MCP authorization §CIMD security).

It names the client (escaped), the domain that vouches for it (a metadata document's host, or
"not verified" for a dynamically registered client), the host the browser will be sent back to,
a warning when the client only has loopback redirect URIs, the server requested and what the
access policy restricts on it (:mod:`oauth.consent.policy`). It carries
a CSRF token bound to the login session and the signed pending request, sets the browser-binding
cookie, and forbids framing. :func:`render_policy_denied` is the page instead of it when the
policy does not allow the server at all: no form, and a link back to the client carrying
``access_denied`` (RFC 6749 §4.1.2.1).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse

from app.middleware import HTML_CSP
from app.signed_cookies import set_signed_cookie
from app.web import render
from oauth.consent.pending import STATE_LIFETIME, PendingConsent, seal
from oauth.consent.policy import POLICY_DENIED_DESCRIPTION
from oauth.login.api import SignedInUser
from oauth.scopes import scope_set
from oauth.server.authorization import ValidatedAuthorization
from oauth.server.authorization_responses import with_params
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
    restrictions: tuple[str, ...] = (),
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
        "restrictions": restrictions,
        "user": user,
        "csrf": runtime.csrf.issue(binding=user.login_session_id, purpose=CSRF_PURPOSE, now=now),
        "state": seal(runtime.keyring, pending),
    }
    response = render(request, "consent.html", context)
    response.headers["x-frame-options"] = "DENY"
    response.headers["content-security-policy"] = HTML_CSP  # frame-ancestors 'none'; set here, not left to chance
    set_signed_cookie(response, runtime, consent_cookie(pending.state_id), pending.state_id, max_age=STATE_LIFETIME)
    return response


def render_policy_denied(
    request: Request, runtime: TokenContext, user: SignedInUser, validated: ValidatedAuthorization, *, client_rule: bool
) -> HTMLResponse:
    """403: the policy does not allow the requested server; no approval offered, no code issued.

    The link back to the client carries ``error=access_denied``, ``state`` and ``iss``, so the
    client learns the outcome when the user follows it (RFC 6749 §4.1.2.1, RFC 9207); the page
    itself does not redirect, so the user sees why.
    """
    server = runtime.config.servers.get(validated.resource.server)
    params = {"error": "access_denied", "error_description": POLICY_DENIED_DESCRIPTION, "state": validated.state}
    return_uri = with_params(with_params(validated.redirect_uri, params), {"iss": runtime.config.public_url})
    context = {
        "client": validated.client,
        "server_title": (server.title if server is not None else None) or validated.resource.server,
        "user": user,
        "client_restricted": client_rule,
        "return_uri": return_uri,
        "redirect_host": urlsplit(validated.redirect_uri).hostname or validated.redirect_uri,
    }
    response = render(request, "policy_denied.html", context, status_code=403)
    response.headers["x-frame-options"] = "DENY"
    response.headers["content-security-policy"] = HTML_CSP
    return response
