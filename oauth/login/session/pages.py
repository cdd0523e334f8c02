"""Responses every sign-in provider ends with: signed in (cookie + redirect) or refused (page)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.clock import epoch_seconds
from app.context import AppContext
from app.cookies import LOGIN_NONCE_COOKIE, LOGIN_SESSION_COOKIE, clear_cookie, set_cookie
from app.web import render
from oauth.login.session.codecs import login_codecs
from oauth.login.session.login_session import LoginSession


def login_url(return_to: str) -> str:
    """``/login?return_to=…`` (``return_to`` already checked to be local)."""
    return f"/login?{urlencode({'return_to': return_to})}"


def signed_in_redirect(runtime: AppContext, login_session: LoginSession, return_to: str) -> RedirectResponse:
    """303 to ``return_to`` carrying the new login session cookie; the sign-in nonce is dropped."""
    config = runtime.config
    value = login_codecs(runtime.keyring).login_session.seal(login_session)
    max_age = login_session.cookie_max_age(epoch_seconds(runtime.clock.now()), config.login)
    response = RedirectResponse(return_to, status_code=303, headers={"cache-control": "no-store"})
    set_cookie(response, config, LOGIN_SESSION_COOKIE, value, max_age)
    clear_cookie(response, config, LOGIN_NONCE_COOKIE)
    return response


def refused_page(
    request: Request,
    runtime: AppContext,
    *,
    title: str,
    message: str,
    return_to: str,
    status_code: int = 403,
    retry_label: str = "Sign in with another account",
) -> HTMLResponse:
    """A page (403 unless told) with ``message`` and a link to start signing in again. Sets no session cookie."""
    context = {"title": title, "message": message, "retry_url": login_url(return_to), "retry_label": retry_label}
    response = render(request, "login/refused.html", context, status_code=status_code)
    clear_cookie(response, runtime.config, LOGIN_NONCE_COOKIE)
    return response
