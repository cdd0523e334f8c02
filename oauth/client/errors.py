"""What can go wrong while Portico acts as an OAuth client, as exceptions with page-safe messages.

Portico is an OAuth client (RFC 6749 §1.1) of two kinds of authorization server: the upstream IdPs
users sign in with, and the authorization servers of upstream MCP servers it holds users' grants
for. Both raise these exceptions; each caller turns them into its own page.

Every message is fixed text or built from values Portico checked (an endpoint's name, an HTTP
status, an OAuth error code restricted to RFC 6749's characters); none ever contains a code,
token, ID token, client secret or verifier.

``status_code`` says whose failure it is, as the HTTP status of a response that reports it (RFC 9110
§15): 502 Bad Gateway (§15.6.3) when the authorization server failed, 400 Bad Request (§15.5.1)
when what came back through the browser was at fault. Titles and sentences belong to the pages.
"""

from __future__ import annotations

import re

# RFC 6749 §4.1.2.1 / §5.2: error and error_description use %x20-21 / %x23-5B / %x5D-7E.
_NOT_OAUTH_TEXT = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")
MAX_ERROR_LENGTH = 64
MAX_DESCRIPTION_LENGTH = 300


class OAuthClientError(Exception):
    """Base class of the OAuth client's failures; ``status_code`` per the module docstring."""

    status_code = 502


class AuthorizationServerUnavailableError(OAuthClientError):
    """The authorization server could not be reached or answered with something unusable: network,
    5xx, a body that is not JSON, metadata for another ``issuer``, an endpoint that is not https, or
    one of its endpoints (JWKS, userinfo, an IdP's API, revocation) failing."""


class IssuerMismatchError(AuthorizationServerUnavailableError):
    """A metadata document names another ``issuer`` than the one it was fetched for (RFC 8414 §3.3,
    OpenID Connect Discovery 1.0 §4.3)."""


class AuthorizationResponseError(OAuthClientError):
    """The authorization server sent the browser back with an error (RFC 6749 §4.1.2.1), e.g.
    ``access_denied``, or with a response Portico refuses (another ``iss``, no ``code``).

    ``error`` and ``description`` are reduced to RFC 6749's characters and truncated.
    """

    status_code = 400

    def __init__(self, error: str, description: str | None = None) -> None:
        self.error = oauth_text(error, MAX_ERROR_LENGTH) or "unknown_error"
        self.description = oauth_text(description or "", MAX_DESCRIPTION_LENGTH) or None
        super().__init__(self.error)


class TokenRequestError(OAuthClientError):
    """The token endpoint refused the request (RFC 6749 §5.2), e.g. ``invalid_grant``.

    ``error`` and ``description`` are reduced to RFC 6749's characters and truncated.
    """

    def __init__(self, error: str, description: str | None = None) -> None:
        self.error = oauth_text(error, MAX_ERROR_LENGTH) or "unknown_error"
        self.description = oauth_text(description or "", MAX_DESCRIPTION_LENGTH) or None
        super().__init__(self.error)


class FlowStateError(OAuthClientError):
    """The redirect's ``state`` does not belong to a flow this browser started less than 10 minutes
    ago, or was already used (RFC 6749 §10.12)."""

    status_code = 400


def oauth_text(value: str, limit: int) -> str:
    """``value`` without characters RFC 6749 forbids in error values, cut to ``limit`` characters."""
    return _NOT_OAUTH_TEXT.sub("", value)[:limit]
