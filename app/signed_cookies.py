"""Portico's own browser cookies: signed (itsdangerous), ``HttpOnly``, ``SameSite=Lax``, ``Path=/``.

Names and the ``Secure`` attribute follow :mod:`app.cookies` (``__Host-`` prefix on an ``https``
public URL, bare names on loopback ``http``). Values are signed with the cookie-signing key
(rotation-aware).
"""

from __future__ import annotations

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeSerializer

from app.context import AppContext
from app.cookies import cookie_name, is_https
from app.crypto import Purpose


def set_signed_cookie(response: Response, runtime: AppContext, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        cookie_name(runtime.config, name),
        _serializer(runtime, name).dumps(value),
        max_age=max_age,
        path="/",
        secure=is_https(runtime.config),
        httponly=True,
        samesite="lax",
    )


def read_signed_cookie(request: Request, runtime: AppContext, name: str) -> str | None:
    """The cookie's value when present and correctly signed, else None."""
    raw = request.cookies.get(cookie_name(runtime.config, name))
    if raw is None:
        return None
    try:
        value = _serializer(runtime, name).loads(raw)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


def delete_cookie(response: Response, runtime: AppContext, name: str) -> None:
    response.delete_cookie(
        cookie_name(runtime.config, name), path="/", secure=is_https(runtime.config), httponly=True, samesite="lax"
    )


def _serializer(runtime: AppContext, name: str) -> URLSafeSerializer:
    keys = list(reversed(runtime.keyring.all(Purpose.COOKIE_SIGNING)))  # itsdangerous signs with the last
    return URLSafeSerializer(keys, salt=f"portico.cookie.{name}")
