"""OAuth error codes Authlib does not define.

Every other OAuth error is one of Authlib's classes (``authlib.oauth2.rfc6749.errors``,
``authlib.oauth2.rfc7591.errors``); the adapter in :mod:`oauth.server.authlib_server` renders them all
as RFC 6749 §5.2 bodies or §4.1.2.1 redirects.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import OAuth2Error


class InvalidTargetError(OAuth2Error):  # type: ignore[misc]
    """RFC 8707 §2: the requested resource is invalid, unknown or malformed."""

    error = "invalid_target"
