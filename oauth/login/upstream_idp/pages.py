"""The page a failed upstream sign-in ends on: what went wrong, in words, and a way to start again.

The IdP's own error code is shown (RFC 6749 §4.1.2.1: ``access_denied``, ``login_required``,
...), reduced to RFC 6749's characters and autoescaped by the template. No code, token, ID token,
verifier or secret is ever part of a message.

Presentation lives here, not on the exceptions: the page's title and sentences are this page's
words (the connections page words the same client failures its own way). The HTTP status is the
exception's ``status_code``, which only says whose failure it is (RFC 9110 §15: 502, 400, 403).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from fastapi import Request
from fastapi.responses import HTMLResponse

from app.context import AppContext
from oauth.client.errors import (
    AuthorizationResponseError,
    AuthorizationServerUnavailableError,
    FlowStateError,
    TokenRequestError,
)
from oauth.login.session.pages import refused_page
from oauth.login.upstream_idp.errors import AccountRefusedError, InvalidIdTokenError, SignInError

DEFAULT_TITLE: Final = "Sign-in failed"
TITLES: Final[Mapping[type[Exception], str]] = {
    FlowStateError: "Sign-in expired",
    AccountRefusedError: "Access denied",
}


def failure_title(error: SignInError) -> str:
    """The page's heading: :data:`TITLES` for the error's class (or a base class), else :data:`DEFAULT_TITLE`."""
    return next((TITLES[kind] for kind in type(error).__mro__ if kind in TITLES), DEFAULT_TITLE)


def failure_message(error: SignInError, display_name: str) -> str:
    """One or two sentences for the user (and the administrator they may forward it to)."""
    match error:
        case AuthorizationResponseError():
            detail = f": {error.description}" if error.description else "."
            return f"{display_name} returned the error {error.error}{detail}"
        case TokenRequestError():
            return f"{display_name} refused to complete the sign-in (error {error.error}). Start again."
        case AuthorizationServerUnavailableError():
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
    request: Request, runtime: AppContext, error: SignInError, *, display_name: str, return_to: str
) -> HTMLResponse:
    """The error page for ``error``: status ``error.status_code``, a link back to ``/login`` (and ``return_to``)."""
    return refused_page(
        request,
        runtime,
        title=failure_title(error),
        message=failure_message(error, display_name),
        return_to=return_to,
        status_code=error.status_code,
        retry_label="Try again",
    )
