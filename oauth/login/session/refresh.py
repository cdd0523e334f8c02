"""Sliding idle timeout: re-issue the login session cookie on a response once a minute.

:func:`oauth.login.api.current_user` is a dependency and cannot touch the response, so it leaves
the new ``Set-Cookie`` in the request scope and :class:`LoginSessionRefreshMiddleware` adds it
to the response, unless the route itself set or cleared that cookie (sign-in, sign-out).
"""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.clock import epoch_seconds
from app.context import AppContext
from app.cookies import LOGIN_SESSION_COOKIE, cookie_header, cookie_name
from oauth.login.session.codecs import login_codecs
from oauth.login.session.login_session import LoginSession

_STATE_KEY = "portico.login_session_refresh"


def schedule_refresh(request: Request, runtime: AppContext, login_session: LoginSession) -> None:
    """When due, queue a re-issued cookie (``last_seen`` = now) for this request's response."""
    now = epoch_seconds(runtime.clock.now())
    if not login_session.needs_refresh(now):
        return
    refreshed = login_session.seen(now)
    value = login_codecs(runtime.keyring).login_session.seal(refreshed)
    config = runtime.config
    header = cookie_header(config, LOGIN_SESSION_COOKIE, value, refreshed.cookie_max_age(now, config.login))
    request.scope.setdefault("state", {})[_STATE_KEY] = (cookie_name(config, LOGIN_SESSION_COOKIE), header)


class LoginSessionRefreshMiddleware:
    """Adds the ``Set-Cookie`` queued by :func:`schedule_refresh` to the response (pure ASGI)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state: dict[str, object] = scope.setdefault("state", {})

        async def send_with_refresh(message: Message) -> None:
            pending = state.get(_STATE_KEY)
            if message["type"] == "http.response.start" and isinstance(pending, tuple):
                name, header = pending
                headers = MutableHeaders(scope=message)
                if not any(value.startswith(f"{name}=") for value in headers.getlist("set-cookie")):
                    headers.append("set-cookie", header)
            await send(message)

        await self.app(scope, receive, send_with_refresh)
