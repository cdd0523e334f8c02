"""Cookie names and attributes: ``__Host-`` + Secure over https, bare names on loopback http."""

from __future__ import annotations

from app.config import PorticoConfig
from app.cookies import LOGIN_SESSION_COOKIE, cookie_header, cookie_name

HTTPS = PorticoConfig(public_url="https://gw.example.com")
LOOPBACK = PorticoConfig(public_url="http://127.0.0.1:8080")


def test_https_uses_the_host_prefix_with_secure() -> None:
    header = cookie_header(HTTPS, LOGIN_SESSION_COOKIE, "v", 60)
    assert cookie_name(HTTPS, LOGIN_SESSION_COOKIE) == "__Host-portico_login"
    assert header.startswith("__Host-portico_login=v;")
    assert {"Secure", "HttpOnly", "Path=/", "SameSite=Lax", "Max-Age=60"} <= set(header.split("; "))
    assert "Domain" not in header


def test_loopback_http_uses_the_bare_name_without_secure() -> None:
    """Browsers reject a ``__Host-`` cookie that is not Secure, and http cannot set Secure cookies."""
    header = cookie_header(LOOPBACK, LOGIN_SESSION_COOKIE, "v", 60)
    assert header.startswith("portico_login=v;")
    assert "Secure" not in header
    assert {"HttpOnly", "Path=/", "SameSite=Lax"} <= set(header.split("; "))


def test_max_age_zero_deletes_the_cookie() -> None:
    header = cookie_header(HTTPS, LOGIN_SESSION_COOKIE, "", 0)
    assert "Max-Age=0" in header and "expires=Thu, 01 Jan 1970 00:00:00 GMT" in header
