"""Sign-in routes: ``/login`` (choose a provider), ``/logout``, and each configured provider's own.

A provider's routes exist only when ``login.providers`` lists it: with no ``type: dev`` entry
there is no ``/login/dev`` at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.clock import epoch_seconds
from app.config import PorticoConfig
from app.config.schema import ProviderConfig
from app.context import APP_CONTEXT
from app.cookies import LOGIN_SESSION_COOKIE, clear_cookie
from app.db import run_db
from app.return_to import safe_return_to
from app.web import add_template_dir, error_page, render
from oauth.login.api import SignedInUser, current_user
from oauth.login.providers import provider_router
from oauth.login.session.current import sealed_login_session
from oauth.login.session.refresh import LoginSessionRefreshMiddleware
from oauth.login.store.login_sessions import end_login_session
from oauth.login.upstream_idp.prompt import upstream_prompt

LOGOUT_CSRF_PURPOSE = "logout"

add_template_dir(Path(__file__).resolve().parent / "templates")


def install_login(app: FastAPI, config: PorticoConfig) -> None:
    """Add the sign-in routes for ``config``'s providers and the login-cookie refresher."""
    app.include_router(build_router(config))
    app.add_middleware(LoginSessionRefreshMiddleware)


def build_router(config: PorticoConfig) -> APIRouter:
    """``/login``, ``/logout`` and the routes of every configured provider."""
    router = APIRouter()
    router.add_api_route("/login", login, methods=["GET"], response_class=Response)
    router.add_api_route("/logout", logout_form, methods=["GET"], response_class=Response)
    router.add_api_route("/logout", logout, methods=["POST"], response_class=Response)
    for provider in config.login.providers:
        router.include_router(provider_router(provider))
    return router


def provider_url(provider: ProviderConfig, return_to: str, prompt: str | None = None) -> str:
    """Where sign-in with ``provider`` starts; ``prompt`` is passed on to the IdP (:mod:`.upstream_idp.prompt`)."""
    upstream = upstream_prompt(prompt)
    params = {"return_to": return_to} | ({"prompt": upstream} if upstream else {})
    return f"/login/{quote(provider.id, safe='')}?{urlencode(params)}"


async def login(request: Request, return_to: str = "/", prompt: str | None = None) -> Response:
    """Straight to the only provider; a choice among several; an error page when there are none."""
    providers = APP_CONTEXT.of(request).config.login.providers
    target = safe_return_to(return_to)
    if not providers:
        message = "Sign-in is not configured: login.providers is empty. Add an identity provider to the configuration."
        return error_page(request, "Sign-in unavailable", message, status_code=503)
    if len(providers) == 1:
        return RedirectResponse(
            provider_url(providers[0], target, prompt), status_code=303, headers={"cache-control": "no-store"}
        )
    choices = [{"display_name": p.display_name, "url": provider_url(p, target, prompt)} for p in providers]
    return render(request, "login/choose.html", {"providers": choices})


async def logout_form(request: Request, user: Annotated[SignedInUser | None, Depends(current_user)]) -> Response:
    """A confirmation form (signing out by a plain link would let any page sign users out)."""
    if user is None:
        return render(request, "login/logout.html", {"email": None})
    runtime = APP_CONTEXT.of(request)
    now = epoch_seconds(runtime.clock.now())
    token = runtime.csrf.issue(binding=user.login_session_id, purpose=LOGOUT_CSRF_PURPOSE, now=now)
    return render(request, "login/logout.html", {"email": user.email, "csrf_token": token})


async def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    """End the login session (server-side row and cookie) after checking the form's CSRF token."""
    runtime = APP_CONTEXT.of(request)
    login_session = sealed_login_session(request, runtime)
    if login_session is not None:
        now = epoch_seconds(runtime.clock.now())
        binding = login_session.login_session_id
        if not runtime.csrf.verify(csrf_token, binding=binding, purpose=LOGOUT_CSRF_PURPOSE, now=now):
            message = "This sign-out form has expired or was not sent from this site. Reload the page and try again."
            return error_page(request, "Sign-out failed", message, status_code=403)
        await run_db(runtime.db, lambda db: end_login_session(db, binding))
    response = render(request, "login/signed_out.html", {})
    clear_cookie(response, runtime.config, LOGIN_SESSION_COOKIE)
    return response
