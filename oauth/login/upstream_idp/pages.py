"""The page a failed upstream sign-in ends on: what went wrong, in words, and a way to start again.

The IdP's own error code is shown (RFC 6749 §4.1.2.1: ``access_denied``, ``login_required``,
...), reduced to RFC 6749's characters and autoescaped by the template. No code, token, ID token,
verifier or secret is ever part of a message.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from app.context import AppContext
from oauth.client.errors import (
    AuthorizationResponseError,
    FlowStateError,
    IdpUnavailableError,
    InvalidIdTokenError,
    TokenRequestError,
    UpstreamIdpError,
)
from oauth.login.session.pages import refused_page


def failure_message(error: UpstreamIdpError, display_name: str) -> str:
    """One or two sentences for the user (and the administrator they may forward it to)."""
    match error:
        case AuthorizationResponseError():
            detail = f": {error.description}" if error.description else "."
            return f"{display_name} returned the error {error.error}{detail}"
        case TokenRequestError():
            return f"{display_name} refused to complete the sign-in (error {error.error}). Start again."
        case IdpUnavailableError():
            return f"Could not complete the sign-in with {display_name}: {error}. Try again later."
        case InvalidIdTokenError():
            return f"{display_name}'s answer failed verification: {error.reason}. Start again."
        case FlowStateError():
            return (
                "This sign-in was not started in this browser, took longer than 10 minutes, "
                "or was already completed. Start again."
            )
    return str(error)


def failure_page(
    request: Request, runtime: AppContext, error: UpstreamIdpError, *, display_name: str, return_to: str
) -> HTMLResponse:
    """The error page for ``error``, with a link back to ``/login`` (and ``return_to``)."""
    return refused_page(
        request,
        runtime,
        title=error.title,
        message=failure_message(error, display_name),
        return_to=return_to,
        status_code=error.status_code,
        retry_label="Try again",
    )
