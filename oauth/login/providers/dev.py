"""The ``dev`` provider: a form where any email address is typed and, if the rules admit it, signed in.

Only ever routed when ``login.providers`` lists ``type: dev``, which the configuration schema
allows only for a loopback ``public_url``. Its emails count as verified; the user's
``provider_subject`` is the (lower-cased) email.
"""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from app.clock import epoch_seconds
from app.config.schema import DevProviderConfig
from app.context import APP_CONTEXT, AppContext
from app.cookies import LOGIN_NONCE_COOKIE, read_cookie, set_cookie
from app.return_to import safe_return_to
from app.web import render
from oauth.login.session.codecs import LOGIN_NONCE_LIFETIME, login_codecs
from oauth.login.session.current import sealed_login_session
from oauth.login.session.identity import UpstreamIdentity
from oauth.login.session.pages import refused_page, signed_in_redirect
from oauth.login.session.sign_in import sign_in

LOGIN_CSRF_PURPOSE = "login"
_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")

FormText = Annotated[str, Form()]


def is_email_address(value: str) -> bool:
    """A plausible lower-cased ``local@domain.tld`` of at most 254 characters."""
    return len(value) <= 254 and _EMAIL.match(value) is not None


def dev_router(provider: DevProviderConfig) -> APIRouter:
    """``GET``/``POST /login/<provider.id>``: the sign-in form and its submission."""
    router = APIRouter()
    path = f"/login/{quote(provider.id, safe='')}"

    async def dev_sign_in_form(request: Request, return_to: str = "/") -> Response:
        return _form_page(request, APP_CONTEXT.of(request), provider, safe_return_to(return_to))

    async def dev_sign_in(
        request: Request, email: FormText = "", csrf_token: FormText = "", return_to: FormText = ""
    ) -> Response:
        return await _submit(request, provider, email=email, csrf_token=csrf_token, return_to=return_to)

    router.add_api_route(path, dev_sign_in_form, methods=["GET"], response_class=Response)
    router.add_api_route(path, dev_sign_in, methods=["POST"], response_class=Response)
    return router


async def _submit(
    request: Request, provider: DevProviderConfig, *, email: str, csrf_token: str, return_to: str
) -> Response:
    runtime = APP_CONTEXT.of(request)
    target = safe_return_to(return_to)
    nonce = _verified_nonce(request, runtime, csrf_token)
    if nonce is None:
        message = "This sign-in form has expired or was not sent from this site. Start signing in again."
        return refused_page(request, runtime, title="Sign-in form expired", message=message, return_to=target)
    address = email.strip().lower()
    if not is_email_address(address):
        error = "Enter an email address such as alice@example.com."
        return _form_page(request, runtime, provider, target, email=email, error=error, nonce=nonce)
    identity = UpstreamIdentity(provider=provider.id, provider_subject=address, email=address, email_verified=True)
    previous = sealed_login_session(request, runtime)
    outcome = await sign_in(runtime, identity, replacing=previous.login_session_id if previous else None)
    if outcome.login_session is None:
        reason = outcome.decision.reason
        return refused_page(request, runtime, title="Access denied", message=reason, return_to=target)
    return signed_in_redirect(runtime, outcome.login_session, target)


def _verified_nonce(request: Request, runtime: AppContext, csrf_token: str) -> str | None:
    now = epoch_seconds(runtime.clock.now())
    cookie = read_cookie(request, runtime.config, LOGIN_NONCE_COOKIE)
    nonce = login_codecs(runtime.keyring).login_nonce.open(cookie, now)
    if nonce is None or not runtime.csrf.verify(csrf_token, binding=nonce, purpose=LOGIN_CSRF_PURPOSE, now=now):
        return None
    return nonce


def _form_page(
    request: Request,
    runtime: AppContext,
    provider: DevProviderConfig,
    return_to: str,
    *,
    email: str = "",
    error: str | None = None,
    nonce: str | None = None,
) -> Response:
    """The form; a new nonce cookie unless re-showing the form for a nonce already checked."""
    now = epoch_seconds(runtime.clock.now())
    cookie_value = None
    if nonce is None:
        nonce, cookie_value = login_codecs(runtime.keyring).login_nonce.issue(now)
    context = {
        "display_name": provider.display_name,
        "action": f"/login/{quote(provider.id, safe='')}",
        "return_to": return_to,
        "csrf_token": runtime.csrf.issue(binding=nonce, purpose=LOGIN_CSRF_PURPOSE, now=now),
        "email": email,
        "error": error,
    }
    response = render(request, "login/dev.html", context, status_code=400 if error else 200)
    if cookie_value is not None:
        set_cookie(response, runtime.config, LOGIN_NONCE_COOKIE, cookie_value, LOGIN_NONCE_LIFETIME)
    return response
