"""Portico's browser cookies: their names and attributes (sign-in, upstream flows, consent, connections).

Over https the names carry the ``__Host-`` prefix (Secure, Path=/, no Domain: no subdomain can
set or shadow them). A loopback ``http://`` deployment cannot use the prefix, because browsers
reject ``__Host-`` cookies without Secure, so there the bare names are used without Secure.
Always HttpOnly, SameSite=Lax (the sign-in return is a top-level navigation), Path=/.

- ``__Host-portico_login`` / ``portico_login``: the login session.
- ``__Host-portico_login_nonce`` / ``portico_login_nonce``: the sign-in form's CSRF binding.
"""

from __future__ import annotations

import http.cookies

from fastapi import Request, Response

from app.config import PorticoConfig

LOGIN_SESSION_COOKIE = "portico_login"
LOGIN_NONCE_COOKIE = "portico_login_nonce"
_HOST_PREFIX = "__Host-"


def is_https(config: PorticoConfig) -> bool:
    return config.public_url.startswith("https://")


def cookie_name(config: PorticoConfig, base: str) -> str:
    """``__Host-<base>`` over https, ``<base>`` on loopback http."""
    return f"{_HOST_PREFIX}{base}" if is_https(config) else base


def read_cookie(request: Request, config: PorticoConfig, base: str) -> str | None:
    """The value of cookie ``base`` on this request, or None."""
    return request.cookies.get(cookie_name(config, base))


def cookie_header(config: PorticoConfig, base: str, value: str, max_age: int) -> str:
    """A ``Set-Cookie`` header value; ``max_age`` 0 deletes the cookie."""
    cookie: http.cookies.SimpleCookie = http.cookies.SimpleCookie()
    name = cookie_name(config, base)
    cookie[name] = value
    morsel = cookie[name]
    morsel["max-age"] = max_age
    if max_age == 0:
        morsel["expires"] = "Thu, 01 Jan 1970 00:00:00 GMT"
    morsel["path"] = "/"
    morsel["httponly"] = True
    morsel["samesite"] = "Lax"
    if is_https(config):
        morsel["secure"] = True
    return cookie.output(header="").strip()


def set_cookie(response: Response, config: PorticoConfig, base: str, value: str, max_age: int) -> None:
    """Add a ``Set-Cookie`` for cookie ``base`` to ``response``."""
    response.raw_headers.append((b"set-cookie", cookie_header(config, base, value, max_age).encode("latin-1")))


def clear_cookie(response: Response, config: PorticoConfig, base: str) -> None:
    """Tell the browser to drop cookie ``base``."""
    set_cookie(response, config, base, "", 0)
